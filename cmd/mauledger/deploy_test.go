package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deployment examples in deploy/ run mauledger with the config
// deploy/mauledger.yaml installed as /etc/mauledger/mauledger.yaml.
const (
	deployDir       = "../../deploy"
	installedConfig = "/etc/mauledger/mauledger.yaml"
)

// TestDeployExamplesRunACommandTheCLIAccepts parses the crontab line, the
// systemd service and timer, and the Kubernetes CronJob, takes the
// mauledger command line each runs, and has the CLI parse its flags and
// load its config (close --dry-run).
func TestDeployExamplesRunACommandTheCLIAccepts(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001")
	t.Setenv("TWILIO_AUTH_TOKEN", "token")
	for name, command := range map[string]string{
		"crontab":    crontabCommand(t),
		"systemd":    systemdCommand(t),
		"kubernetes": cronJobCommand(t),
	} {
		args := mauledgerArgs(t, name, command)
		for i, a := range args {
			if a == installedConfig {
				args[i] = filepath.Join(deployDir, "mauledger.yaml")
			}
		}
		r := mauledger(t, "", append(args, "--dry-run")...)
		if r.code != 0 || !strings.Contains(r.stdout, "sources:    ingest twilio; ingest events --spool /var/lib/mauledger/spool") {
			t.Errorf("%s runs %q: %+v", name, command, r)
		}
	}
}

// mauledgerArgs takes the arguments of the first mauledger invocation in a
// shell command line (no quoting in the examples).
func mauledgerArgs(t *testing.T, name, command string) []string {
	t.Helper()
	for _, part := range regexp.MustCompile(`&&|;|>>|\|`).Split(command, -1) {
		fields := strings.Fields(part)
		if len(fields) > 0 && filepath.Base(fields[0]) == "mauledger" {
			if !strings.Contains(part, "close") || !strings.Contains(part, "--config "+installedConfig) {
				t.Errorf("%s: %q is not a close with the installed config", name, part)
			}
			return fields[1:]
		}
	}
	t.Fatalf("%s: no mauledger command in %q", name, command)
	return nil
}

var cronField = regexp.MustCompile(`^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,[0-9]+)*$`)

// crontabCommand reads the /etc/cron.d line: five schedule fields, a user,
// the command.
func crontabCommand(t *testing.T) string {
	t.Helper()
	var command string
	for _, line := range strings.Split(mustRead(filepath.Join(deployDir, "crontab")), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.Contains(strings.Fields(line)[0], "=") {
			continue
		}
		fields := strings.Fields(line)
		for _, f := range fields[:5] {
			if !cronField.MatchString(f) {
				t.Errorf("crontab: schedule field %q", f)
			}
		}
		if command != "" {
			t.Error("crontab: more than one job")
		}
		command = strings.Join(fields[6:], " ")
	}
	return command
}

// systemdCommand reads the service's ExecStart and checks the unit and its
// timer say what the README promises.
func systemdCommand(t *testing.T) string {
	t.Helper()
	service := unitKeys(t, "mauledger-close.service")
	timer := unitKeys(t, "mauledger-close.timer")
	if service["Type"] != "oneshot" || service["SuccessExitStatus"] != "6" || service["EnvironmentFile"] == "" {
		t.Errorf("service: %v", service)
	}
	if timer["OnCalendar"] == "" || timer["Unit"] != "mauledger-close.service" || timer["Persistent"] != "true" || timer["WantedBy"] != "timers.target" {
		t.Errorf("timer: %v", timer)
	}
	return service["ExecStart"]
}

func unitKeys(t *testing.T, name string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, line := range strings.Split(mustRead(filepath.Join(deployDir, "systemd", name)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return keys
}

// cronJobCommand reads the CronJob: one close at a time, a volume for the
// database and outputs, the config from a ConfigMap, the credentials from
// a Secret; and the script its container runs.
func cronJobCommand(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join(deployDir, "kubernetes", "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct {
								Command []string `yaml:"command"`
								Args    []string `yaml:"args"`
								Env     []struct {
									Name      string `yaml:"name"`
									ValueFrom struct {
										SecretKeyRef struct {
											Name string `yaml:"name"`
										} `yaml:"secretKeyRef"`
									} `yaml:"valueFrom"`
								} `yaml:"env"`
								VolumeMounts []struct {
									Name      string `yaml:"name"`
									MountPath string `yaml:"mountPath"`
								} `yaml:"volumeMounts"`
							} `yaml:"containers"`
							Volumes []struct {
								Name                  string         `yaml:"name"`
								PersistentVolumeClaim map[string]any `yaml:"persistentVolumeClaim"`
								ConfigMap             map[string]any `yaml:"configMap"`
							} `yaml:"volumes"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	for job.Kind != "CronJob" {
		if err := dec.Decode(&job); err != nil {
			t.Fatalf("cronjob.yaml: no CronJob: %v", err)
		}
	}
	if job.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q, want Forbid", job.Spec.ConcurrencyPolicy)
	}
	pod := job.Spec.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil && mounts["/var/lib/mauledger"] == v.Name:
			volumes["data"] = true
		case v.ConfigMap != nil && mounts[filepath.Dir(installedConfig)] == v.Name:
			volumes["config"] = true
		}
	}
	if !volumes["data"] || !volumes["config"] {
		t.Errorf("volumes: %v (mounts %v)", volumes, mounts)
	}
	secrets := map[string]bool{}
	for _, e := range c.Env {
		secrets[e.Name] = e.ValueFrom.SecretKeyRef.Name != ""
	}
	if !secrets["TWILIO_ACCOUNT_SID"] || !secrets["TWILIO_AUTH_TOKEN"] {
		t.Errorf("credentials not from a secret: %v", secrets)
	}
	if strings.Join(c.Command, " ") != "/bin/sh -c" || len(c.Args) != 1 {
		t.Fatalf("command %q args %q", c.Command, c.Args)
	}
	return c.Args[0]
}
