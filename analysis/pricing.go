package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrBadPrices is returned for a price file that does not describe a
// graduated price table.
var ErrBadPrices = errors.New("bad price table")

// PriceBand is one band of a graduated price table: every user from From to
// To (inclusive) costs Rate. To is 0 for the open-ended last band.
type PriceBand struct {
	From int     `json:"from" yaml:"from"`
	To   int     `json:"to,omitempty" yaml:"to,omitempty"`
	Rate float64 `json:"rate" yaml:"rate"`
	// Contract marks a band Twilio prices by contract: its rate is an
	// estimate and reports flag any month that reaches it.
	Contract bool `json:"contract,omitempty" yaml:"contract,omitempty"`
}

// PriceTable is a graduated per-MAU price list.
type PriceTable struct {
	Name     string      `json:"name" yaml:"name"`
	Currency string      `json:"currency" yaml:"currency"`
	Bands    []PriceBand `json:"bands" yaml:"bands"`
}

// DefaultPrices is Twilio's public Conversations list price: the first 200
// MAU free, then graduated bands; above 20,000 is contract pricing, estimated
// at the last published rate.
func DefaultPrices() PriceTable {
	return PriceTable{
		Name:     "Twilio Conversations list prices (USD)",
		Currency: "USD",
		Bands: []PriceBand{
			{From: 1, To: 200, Rate: 0},
			{From: 201, To: 5000, Rate: 0.05},
			{From: 5001, To: 10000, Rate: 0.0475},
			{From: 10001, To: 20000, Rate: 0.045},
			{From: 20001, Rate: 0.045, Contract: true},
		},
	}
}

// LoadPrices reads a price table from a YAML or JSON file (by extension;
// YAML otherwise, which also reads JSON).
func LoadPrices(path string) (PriceTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PriceTable{}, fmt.Errorf("price file: %w", err)
	}
	var t PriceTable
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&t)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&t)
	}
	if err != nil {
		return PriceTable{}, fmt.Errorf("%w in %s: %v", ErrBadPrices, path, err)
	}
	if t.Name == "" {
		t.Name = filepath.Base(path)
	}
	if err := t.Validate(); err != nil {
		return PriceTable{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Validate checks that the bands start at user 1, follow each other without
// gap or overlap, end open-ended, and have non-negative rates.
func (t PriceTable) Validate() error {
	if t.Currency == "" {
		return fmt.Errorf("%w: no currency", ErrBadPrices)
	}
	if len(t.Bands) == 0 {
		return fmt.Errorf("%w: no bands", ErrBadPrices)
	}
	next := 1
	for i, b := range t.Bands {
		last := i == len(t.Bands)-1
		switch {
		case b.From != next:
			return fmt.Errorf("%w: band %d starts at %d, want %d", ErrBadPrices, i+1, b.From, next)
		case b.Rate < 0 || math.IsNaN(b.Rate):
			return fmt.Errorf("%w: band %d has a negative rate", ErrBadPrices, i+1)
		case !last && b.To < b.From:
			return fmt.Errorf("%w: band %d ends (to: %d) before it starts (from: %d); only the last band may be open-ended", ErrBadPrices, i+1, b.To, b.From)
		case last && b.To != 0:
			return fmt.Errorf("%w: the last band must be open-ended (no to:)", ErrBadPrices)
		}
		next = b.To + 1
	}
	return nil
}

// Rates are held in millionths of the currency (microsPerUnit), so that a
// rate such as 0.0475 is exact; each band's amount is then rounded to the
// cent (microsPerCent millionths) once, half-up, and a total is the sum of
// its rounded bands. All of this is integer arithmetic: no float noise.
const (
	microsPerUnit = 1_000_000
	microsPerCent = 10_000
	centsPerUnit  = 100
)

// Cost prices mau users through the graduated bands: each band's rate
// applies to the users inside it, the band's amount is units × rate rounded
// half-up to the cent, and the total is the sum of the rounded band amounts
// (so it always equals the bands shown).
func (t PriceTable) Cost(mau int) Cost {
	c := Cost{Currency: t.Currency, Bands: []BandCost{}}
	var total int64
	for _, b := range t.Bands {
		units := b.units(mau)
		cents := bandCents(units, b.Rate)
		total += cents
		bc := BandCost{From: b.From, Units: units, Rate: b.Rate, Amount: float64(cents) / centsPerUnit}
		if b.To != 0 {
			to := b.To
			bc.To = &to
		}
		c.Bands = append(c.Bands, bc)
		if b.Contract && units > 0 {
			c.Contract = true
		}
	}
	c.Total = float64(total) / centsPerUnit
	return c
}

// Cents is the month's bill for mau users in cents: Cost(mau).Total as an
// exact integer, for subtracting one bill from another.
func (t PriceTable) Cents(mau int) int64 {
	var total int64
	for _, b := range t.Bands {
		total += bandCents(b.units(mau), b.Rate)
	}
	return total
}

// Saving is what the month's bill drops by if k of its mau users were not
// billed: Cost(mau) − Cost(mau − k) under the graduated table, worked out
// in cents. It is not k × the marginal rate: users taken away fall back
// through the bands, down to the free ones. k is held to 0..mau, so a
// saving is never negative and never exceeds the bill.
func (t PriceTable) Saving(mau, k int) float64 {
	k = max(0, min(k, mau))
	return float64(t.Cents(mau)-t.Cents(mau-k)) / centsPerUnit
}

// MarginalRate is the rate of the band the account's mau-th user falls in.
// It is informative only: savings are priced with Saving, through the
// bands and to the cent. With no users it is the first band's rate.
func (t PriceTable) MarginalRate(mau int) float64 {
	for _, b := range t.Bands {
		if b.To == 0 || mau <= b.To {
			return b.Rate
		}
	}
	return 0
}

// units is how many of mau users fall into the band.
func (b PriceBand) units(mau int) int {
	if mau < b.From {
		return 0
	}
	if b.To != 0 && mau > b.To {
		return b.To - b.From + 1
	}
	return mau - b.From + 1
}

// bandCents is units × rate in cents, rounded once, half-up: the rate is
// taken in millionths, the exact product rounded to the nearest cent, an
// amount of exactly half a cent going up.
func bandCents(units int, rate float64) int64 {
	micros := int64(units) * int64(math.Round(rate*microsPerUnit))
	return (micros + microsPerCent/2) / microsPerCent
}
