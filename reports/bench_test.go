package reports

import (
	"io"
	"strconv"
	"testing"

	"github.com/mauledger/mauledger/analysis"
)

// BenchmarkXLSXActiveUsers writes a workbook whose month bills 100,000
// users, the size the Active users sheet is streamed for.
func BenchmarkXLSXActiveUsers(b *testing.B) {
	r := testReport()
	template := r.Months[0].Billed[0]
	billed := make([]analysis.BilledSubject, 100_000)
	for i := range billed {
		billed[i] = template
		billed[i].Subject = "user-" + strconv.Itoa(i)
	}
	r.Months[0].Billed = billed
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteReport(io.Discard, r, Options{Format: XLSX}); err != nil {
			b.Fatal(err)
		}
	}
}
