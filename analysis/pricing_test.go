package analysis

import (
	"errors"
	"math"
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
		{5000, 240, false},     // 4,800 × 0.05
		{5001, 240.05, false},  // + 1 × 0.0475 = 0.0475, rounded to 0.05
		{10000, 477.5, false},  // + 5,000 × 0.0475 = 237.50
		{20000, 927.5, false},  // + 10,000 × 0.045 = 450.00
		{25000, 1152.5, true},  // + 5,000 at the contract estimate = 225.00
		{10003, 477.64, false}, // + 3 × 0.045 = 0.135, half-up to 0.14
		{10002, 477.59, false}, // + 2 × 0.045 = 0.09
		{5002, 240.1, false},   // + 2 × 0.0475 = 0.095, half-up to 0.10
		{5003, 240.14, false},  // + 3 × 0.0475 = 0.1425, down to 0.14
		{9999, 477.45, false},  // + 4,999 × 0.0475 = 237.4525, down to 237.45
		{20001, 927.55, true},  // + 1 at the contract estimate: 0.045 → 0.05
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

// cents is an amount in whole cents, for comparing money without float noise.
func cents(v float64) int64 { return int64(math.Round(v * 100)) }

func TestCostRoundsEachBandToTheCentOnceHalfUp(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     PriceTable
		mau   int
		bands []float64
		total float64
	}{
		{"5001 users cost 240.05, not 240.0475", DefaultPrices(), 5001,
			[]float64{0, 240, 0.05, 0, 0}, 240.05},
		{"half-up: a band amount ending in exactly half a cent rounds up", DefaultPrices(), 5002,
			[]float64{0, 240, 0.10, 0, 0}, 240.10}, // 2 × 0.0475 = 0.095
		{"half-up: 3 users at 0.045 (0.135) cost 0.14, not 0.13", DefaultPrices(), 10003,
			[]float64{0, 240, 237.50, 0.14, 0}, 477.64},
		{"below half a cent rounds down: 3 × 0.0475 = 0.1425 is 0.14", DefaultPrices(), 5003,
			[]float64{0, 240, 0.14, 0, 0}, 240.14},
		{"the total is the sum of the rounded bands, not the rounded sum", PriceTable{Currency: "USD", Bands: []PriceBand{
			{From: 1, To: 1, Rate: 0.004}, {From: 2, To: 2, Rate: 0.004}, {From: 3, Rate: 0.004},
		}}, 3, []float64{0, 0, 0}, 0}, // 3 × 0.004 = 0.012 would round to 0.01
		{"a band rounds once, not user by user", PriceTable{Currency: "USD", Bands: []PriceBand{
			{From: 1, Rate: 0.004},
		}}, 3, []float64{0.01}, 0.01}, // 0.012, not 3 × 0.00
		{"contract band: rounded like any other and flagged", DefaultPrices(), 20001,
			[]float64{0, 240, 237.50, 450, 0.05}, 927.55},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.p.Cost(tt.mau)
			if len(c.Bands) != len(tt.bands) {
				t.Fatalf("%d bands, want %d", len(c.Bands), len(tt.bands))
			}
			var sum int64
			for i, b := range c.Bands {
				if b.Amount != tt.bands[i] {
					t.Errorf("band %d (from %d): %d × %v = %v, want %v", i+1, b.From, b.Units, b.Rate, b.Amount, tt.bands[i])
				}
				sum += cents(b.Amount)
			}
			if c.Total != tt.total {
				t.Errorf("total %v, want %v", c.Total, tt.total)
			}
			if cents(c.Total) != sum {
				t.Errorf("total %v is not the sum of the bands shown (%d cents)", c.Total, sum)
			}
			if got := tt.p.Cents(tt.mau); got != cents(c.Total) {
				t.Errorf("Cents(%d) = %d, want the total %v", tt.mau, got, c.Total)
			}
		})
	}
	if c := DefaultPrices().Cost(20001); !c.Contract {
		t.Errorf("20001 users reach the contract band: %+v", c)
	}
}

func TestSavingIsTheDifferenceOfTwoBills(t *testing.T) {
	p := DefaultPrices()
	for _, tt := range []struct {
		name   string
		p      PriceTable
		mau, k int
		want   float64
	}{
		{"150 avoidable users of 300 save 5.00, not 7.50", p, 300, 150, 5}, // 5.00 − 0.00, the rest are free
		{"users in the free band save nothing", p, 200, 50, 0},
		{"nothing taken, nothing saved", p, 5001, 0, 0},
		{"one user less across a band boundary: 240.05 − 240.00", p, 5001, 1, 0.05},
		{"two users across a band boundary: 240.05 − 239.95, not 2 × 0.0475", p, 5001, 2, 0.10},
		{"one user of 5,240 saves 0.05, not 0.0475", p, 5240, 1, 0.05}, // 251.40 − 251.35
		{"1,500 of 5,240 fall back into the 0.05 band: 251.40 − 177.00", p, 5240, 1500, 74.40},
		{"contract band: 20,001 less one is 927.55 − 927.50", p, 20001, 1, 0.05},
		{"contract band: 5,000 of 25,000 are 1,152.50 − 927.50", p, 25000, 5000, 225},
		{"a saving never exceeds the bill", p, 5240, 10_000, 251.40},
		{"a saving is never negative", p, 5240, -3, 0},
		{"tenFree: 6 of 15 save 2.50, not 3.00", PriceTable{Currency: "USD", Bands: []PriceBand{
			{From: 1, To: 10, Rate: 0}, {From: 11, Rate: 0.5},
		}}, 15, 6, 2.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Saving(tt.mau, tt.k)
			if got != tt.want {
				t.Errorf("Saving(%d, %d) = %v, want %v", tt.mau, tt.k, got, tt.want)
			}
			if bill := tt.p.Cost(tt.mau).Total; got > bill || got < 0 {
				t.Errorf("Saving(%d, %d) = %v, outside 0..the bill %v", tt.mau, tt.k, got, bill)
			}
			if k := max(0, min(tt.k, tt.mau)); cents(got) != cents(tt.p.Cost(tt.mau).Total)-cents(tt.p.Cost(tt.mau-k).Total) {
				t.Errorf("Saving(%d, %d) = %v is not Cost(%d) − Cost(%d)", tt.mau, tt.k, got, tt.mau, tt.mau-k)
			}
		})
	}
	// Against every k at a few MAUs: the saving is the difference of the
	// two bills, exact to the cent, and never more than k × the highest rate.
	for _, mau := range []int{0, 1, 200, 201, 300, 5001, 10003, 20001} {
		for k := 0; k <= mau; k += max(1, mau/97) {
			s := p.Saving(mau, k)
			if cents(s) != p.Cents(mau)-p.Cents(mau-k) || s < 0 || s > p.Cost(mau).Total {
				t.Errorf("Saving(%d, %d) = %v", mau, k, s)
			}
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
}
