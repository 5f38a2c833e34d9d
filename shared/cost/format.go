package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as a table: one row per line, a subtotal
// per service, the total and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	a := r.Assumptions
	fmt.Fprintf(w, "Pulse on AWS (us-east-1) + Snowflake, one month (%v hours)\n", HoursPerMonth)
	fmt.Fprintf(w, "%s events/s (%s events a month)", fmtNum(a.EventsPerSecond), fmtNum(r.EventsPerMonth))
	if a.FilesPerDay > 0 {
		fmt.Fprintf(w, ", %s files a day of %s MB (%s records a month)", fmtNum(a.FilesPerDay), fmtNum(a.FileMB), fmtNum(r.RecordsPerMonth))
	}
	fmt.Fprintf(w, "\nload mode %s, dedupe %s, kafka %s, workflow %s, warehouse %s %s (auto-suspend %vs)\n\n",
		a.LoadMode, a.Dedupe, a.Kafka, a.Workflow, a.Warehouse, a.Edition, a.AutoSuspendSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "service\titem\tquantity\tunit\tunit price\tmonthly USD\tper M events\t")
	service := ""
	sub := map[string]float64{}
	for _, l := range r.Lines {
		sub[l.Service] += l.MonthlyUSD
	}
	for _, l := range r.Lines {
		name := ""
		if l.Service != service {
			service, name = l.Service, l.Service
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, l.Item, fmtNum(l.Quantity), l.Unit,
			fmtPrice(l.UnitPrice), fmtUSD(l.MonthlyUSD), fmtUSD4(l.PerMillion))
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
	for _, s := range r.Services() {
		fmt.Fprintf(tw, "%s\t(subtotal)\t\t\t\t%s\t%s\t\n", s.Service, fmtUSD(s.MonthlyUSD), fmtUSD4(s.PerMillion))
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t\t\t%s\t%s\t\n", fmtUSD(r.MonthlyUSD), fmtUSD4(r.PerMillion))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintln(w, "note:", n)
		}
	}
	_, err := fmt.Fprintln(w, "\nprices: shared/cost/prices.json (each with its page and date); figures: shared/cost/figures.go (each with the command that measured it)")
	return err
}

// WriteJSON prints the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// fmtNum prints a quantity with thousands separators and sensible digits.
func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return group(strconv.FormatFloat(v, 'f', 0, 64))
	case v >= 1 || v <= -1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func fmtUSD(v float64) string  { return "$" + group(strconv.FormatFloat(v, 'f', 2, 64)) }
func fmtUSD4(v float64) string { return "$" + strconv.FormatFloat(v, 'f', 4, 64) }

func fmtPrice(v float64) string {
	if v >= 0.01 {
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(v, 'g', 4, 64)
}

// group puts commas between thousands of a decimal number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}
