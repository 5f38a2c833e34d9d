package cost

import (
	"strings"
	"testing"
)

// TestDefaultPricesCoverEveryChoice estimates every combination of the
// choices with the committed table: a key the model reads that the table
// lacks fails here.
func TestDefaultPricesCoverEveryChoice(t *testing.T) {
	p, err := DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{LoadMerge, LoadSnowpipe} {
		for _, dd := range []string{DedupeOnDemand, DedupeProvisioned} {
			for _, k := range []string{KafkaServerless, KafkaProvisioned, KafkaExisting} {
				for _, wf := range []string{WorkflowStandard, WorkflowExpress} {
					for _, broker := range []string{"kafka.t3.small", "kafka.m7g.large"} {
						for _, ed := range []string{"standard", "enterprise", "business_critical"} {
							for _, size := range []string{"xs", "s", "m", "l"} {
								a := DefaultAssumptions()
								a.EventsPerSecond, a.FilesPerDay = 100, 10
								a.LoadMode, a.Dedupe, a.Kafka, a.Workflow, a.BrokerType, a.Edition, a.Warehouse = mode, dd, k, wf, broker, ed, size
								if _, err := Estimate(a, Figures, p); err != nil {
									t.Fatalf("%s %s %s %s %s %s %s: %v", mode, dd, k, wf, broker, ed, size, err)
								}
							}
						}
					}
				}
			}
		}
	}
	for _, r := range p.Rates {
		if r.Service == "" || r.What == "" {
			t.Errorf("rate %s: service and what are needed to print it", r.Key)
		}
	}
	if len(p.Peers) == 0 {
		t.Error("no peers in the price table")
	}
}

// TestPeersPerMillion checks the peers' figures as their pages give them:
// Clickstream $348.80 + $3,961 at 10,000 events/s over 25.92 billion
// events (30-day month), $75.80 + $775.60 at 1,000 events/s; the Game Analytics Pipeline's $65.88 over 259.2
// million events.
func TestPeersPerMillion(t *testing.T) {
	p, err := DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"Clickstream Analytics on AWS (10,000 events/s)":      4309.80 / 25920,
		"Clickstream Analytics on AWS (1,000 events/s)":       851.40 / 2592,
		"Game Analytics Pipeline on AWS (data lake, Iceberg)": 65.88 / 259.2,
		"Game Analytics Pipeline on AWS (data lake, Hive)":    92.06 / 259.2,
		"Game Analytics Pipeline on AWS (Amazon Redshift)":    252.50 / 259.2,
	}
	for _, pe := range p.Peers {
		w, ok := want[pe.Name]
		if !ok {
			t.Errorf("unexpected peer %q", pe.Name)
			continue
		}
		if !near(pe.PerMillion(), w) {
			t.Errorf("%s: $%v per million, want $%v", pe.Name, pe.PerMillion(), w)
		}
	}
}

func TestReadPricesNamesTheBadRate(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"no source", `{"currency":"USD","rates":[{"key":"a","unit":"u","value":1,"source":"","read":"2026-12-07"}]}`, "rate 0 (a): source"},
		{"bad date", `{"currency":"USD","rates":[{"key":"a","unit":"u","value":1,"source":"https://x.org","read":"last week"}]}`, `read "last week" is not a YYYY-MM-DD date`},
		{"negative", `{"currency":"USD","rates":[{"key":"a","unit":"u","value":-1,"source":"https://x.org","read":"2026-12-07"}]}`, "value -1 is negative"},
		{"twice", `{"currency":"USD","rates":[{"key":"a","unit":"u","value":1,"source":"https://x.org","read":"2026-12-07"},{"key":"a","unit":"u","value":1,"source":"https://x.org","read":"2026-12-07"}]}`, "rate 1 (a): key appears twice"},
		{"unknown field", `{"currency":"USD","rates":[{"key":"a","price":1}]}`, `unknown field "price"`},
		{"currency", `{"currency":"EUR","rates":[]}`, `currency "EUR"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPrices(strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadPrices = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
