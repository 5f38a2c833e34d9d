package dataset_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
)

// TestSocialSalesSeedRates cleans the rows printed in seed 001 ("Processing
// batch 3013..3016") and checks the rates against the values printed there.
func TestSocialSalesSeedRates(t *testing.T) {
	rows := []struct {
		line               string
		conversion, bounce float64
	}{
		{`{"ID":"352ed520-03fb-4933-9d2f-38019883650d","Kota":"Bekasi","Sosial_Media":"Instagram","Usage_Count":849,"Sales":68,"Visitors":835,"PageVisitors":161,"Conversion":364,"Ts":1706981205}`, 43.59281437125748, 19.281437125748504},
		{`{"ID":"58ff840c-91e2-4c86-ae46-33ba4a796262","Kota":"Depok","Sosial_Media":"X","Usage_Count":351,"Sales":61,"Visitors":525,"PageVisitors":205,"Conversion":254,"Ts":1706981264}`, 48.38095238095238, 39.04761904761905},
		{`{"ID":"0dab3815-7e78-4411-aab5-28c8fe449cfb","Kota":"Bogor","Sosial_Media":"X","Usage_Count":493,"Sales":142,"Visitors":744,"PageVisitors":248,"Conversion":153,"Ts":1706981198}`, 20.56451612903226, 33.33333333333333},
		{`{"ID":"53980b33-45d5-4186-8580-9e8c641e4386","Kota":"Bogor","Sosial_Media":"Facebook","Usage_Count":224,"Sales":95,"Visitors":821,"PageVisitors":171,"Conversion":435,"Ts":1706981012}`, 52.98416565164433, 20.828258221680876},
		{`{"ID":"267176da-dbe3-45f2-a0b4-1db9b3363739","Kota":"Bogor","Sosial_Media":"X","Usage_Count":409,"Sales":52,"Visitors":956,"PageVisitors":250,"Conversion":192,"Ts":1706981044}`, 20.0836820083682, 26.15062761506276},
		{`{"ID":"2b38cd11-2296-4678-97cb-231ad1e1f73f","Kota":"Jakarta","Sosial_Media":"TikTok","Usage_Count":522,"Sales":64,"Visitors":666,"PageVisitors":134,"Conversion":489,"Ts":1706981112}`, 73.42342342342343, 20.12012012012012},
	}
	c, err := dataset.Compile(dataset.SocialSales)
	if err != nil {
		t.Fatal(err)
	}
	conv, bounce := c.Schema().Index("ConversionRate"), c.Schema().Index("BounceRate")
	for _, r := range rows {
		var raw record.Raw
		if err := record.DecodeJSONObject([]byte(r.line), c.Columns(), &raw); err != nil {
			t.Fatal(err)
		}
		row := c.NewRow()
		if rj := c.Clean(&raw, dataset.Meta{}, row); rj != nil {
			t.Fatalf("%s: rejected: %v", r.line, rj)
		}
		if math.Abs(row[conv].F-r.conversion) > 1e-9 || math.Abs(row[bounce].F-r.bounce) > 1e-9 {
			t.Errorf("%s: rates %v %v; the seed printed %v %v", r.line[:14], row[conv].F, row[bounce].F, r.conversion, r.bounce)
		}
	}
}

// TestStreamSpecsCoverSchemas checks that every field of every topic's Avro
// schema is read by the topic's dataset spec, so no field is dropped
// silently, and that every stream dataset has a schema.
func TestStreamSpecsCoverSchemas(t *testing.T) {
	for _, topic := range events.Topics() {
		spec, err := dataset.Lookup(topic)
		if err != nil {
			t.Errorf("topic %s has no dataset spec: %v", topic, err)
			continue
		}
		c, err := dataset.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		inputs := map[string]bool{}
		for _, col := range c.Columns() {
			inputs[col] = true
		}
		text, _ := events.Schema(topic)
		var s struct {
			Fields []struct{ Name string } `json:"fields"`
		}
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			t.Fatal(err)
		}
		for _, f := range s.Fields {
			if !inputs[f.Name] {
				t.Errorf("%s: Avro field %s is not read by the spec (inputs %s)", topic, f.Name, strings.Join(c.Columns(), ","))
			}
		}
	}
}

func TestMaskEmailAndUUID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"****@gmail.com", "****@gmail.com"}, {"ana.k@Gmail.COM", "****@gmail.com"}, {"x@mail.ru", "****@mail.ru"},
		{"@gmail.com", ""}, {"gmail.com", ""}, {"a@b", ""}, {"a@b c.com", ""},
	} {
		got, err := dataset.MaskEmail(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("MaskEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), c.in) {
			t.Errorf("MaskEmail(%q): the reason repeats the address: %v", c.in, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"6C077156-7BD4-4D46-A456-3AC2EBE7E309", "6c077156-7bd4-4d46-a456-3ac2ebe7e309"},
		{"6c077156-7bd4-4d46-a456-3ac2ebe7e30", ""}, {"6c077156x7bd4-4d46-a456-3ac2ebe7e309", ""}, {"6c077156-7bd4-4d46-a456-3ac2ebe7e30g", ""},
	} {
		got, err := dataset.UUID(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("UUID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
