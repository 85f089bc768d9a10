package analysis

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultPricesAreGraduated(t *testing.T) {
	p := DefaultPrices()
	for _, tt := range []struct {
		mau      int
		total    float64
		contract bool
	}{
		{0, 0, false},
		{200, 0, false},
		{201, 0.05, false},
		{5000, 240, false},              // 4,800 × 0.05
		{5001, 240.0475, false},         // + 1 × 0.0475
		{10000, 477.5, false},           // + 5,000 × 0.0475
		{20000, 927.5, false},           // + 10,000 × 0.045
		{25000, 1152.5, true},           // + 5,000 at the contract estimate
		{10003, 477.5 + 3*0.045, false}, // 0.135: exact, not 0.13499999
	} {
		c := p.Cost(tt.mau)
		if c.Total != tt.total || c.Contract != tt.contract {
			t.Errorf("Cost(%d) = %v (contract %v), want %v (contract %v)", tt.mau, c.Total, c.Contract, tt.total, tt.contract)
		}
		units := 0
		for _, b := range c.Bands {
			units += b.Units
		}
		if units != tt.mau {
			t.Errorf("Cost(%d): bands hold %d users", tt.mau, units)
		}
	}
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	yamlPath := write("contract.yaml", "name: ACME contract\ncurrency: EUR\nbands:\n  - {from: 1, to: 1000, rate: 0}\n  - {from: 1001, rate: 0.02}\n")
	p, err := LoadPrices(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Cost(1500); c.Total != 10 || c.Currency != "EUR" {
		t.Errorf("YAML table: cost of 1500 = %v %s, want 10 EUR", c.Total, c.Currency)
	}
	jsonPath := write("p.json", `{"currency":"USD","bands":[{"from":1,"rate":0.01}]}`)
	if p, err := LoadPrices(jsonPath); err != nil || p.Cost(100).Total != 1 || p.Name != "p.json" {
		t.Errorf("JSON table: %v %+v", err, p)
	}
	for name, body := range map[string]string{
		"gap.yaml":      "currency: USD\nbands:\n  - {from: 1, to: 10, rate: 0}\n  - {from: 12, rate: 1}\n",
		"closed.yaml":   "currency: USD\nbands:\n  - {from: 1, to: 10, rate: 0}\n",
		"negative.yaml": "currency: USD\nbands:\n  - {from: 1, rate: -1}\n",
		"nocurr.yaml":   "bands:\n  - {from: 1, rate: 1}\n",
		"typo.yaml":     "currency: USD\nbandz: []\n",
		"bad.json":      `{"currency":"USD","bands":[{"from":"one"}]}`,
	} {
		if _, err := LoadPrices(write(name, body)); !errors.Is(err, ErrBadPrices) {
			t.Errorf("%s: err = %v, want ErrBadPrices", name, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		month, from, to string
		n               int
	}{
		{"2026-10", "", "", 1},
		{"", "2025-11", "2026-10", 12},
	} {
		r, err := ParseRange(tt.month, tt.from, tt.to)
		if err != nil || len(r.Months()) != tt.n {
			t.Errorf("ParseRange(%q,%q,%q) = %v, %v", tt.month, tt.from, tt.to, r, err)
		}
	}
	for _, bad := range [][3]string{
		{"2026-13", "", ""}, {"2026-1", "", ""}, {"Oct 2026", "", ""}, {"", "2026-10", ""},
		{"", "2026-10", "2026-09"}, {"2026-10", "2026-10", "2026-11"}, {"", "", ""},
	} {
		if _, err := ParseRange(bad[0], bad[1], bad[2]); !errors.Is(err, ErrBadMonth) {
			t.Errorf("ParseRange%q: err = %v, want ErrBadMonth", bad, err)
		}
	}
}

func TestMarginalRateIsTheRateOfTheBandTheMonthEndsIn(t *testing.T) {
	p := DefaultPrices()
	for mau, want := range map[int]float64{0: 0, 200: 0, 201: 0.05, 5000: 0.05, 5001: 0.0475, 20000: 0.045, 1_000_000: 0.045} {
		if got := p.MarginalRate(mau); got != want {
			t.Errorf("MarginalRate(%d) = %v, want %v", mau, got, want)
		}
	}
	if got := AtRate(3, 0.0475); got != 0.1425 {
		t.Errorf("AtRate(3, 0.0475) = %v, want 0.1425", got)
	}
}
