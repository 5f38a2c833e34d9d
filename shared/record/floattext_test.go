package record

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestFloatTextMatchesG(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(f float64) {
		for _, bits := range []int{32, 64} {
			g := f
			if bits == 32 {
				g = float64(float32(f))
			}
			v, _ := floatText(g, bits)
			if want := strconv.FormatFloat(g, 'g', -1, bits); v.Text != want {
				t.Fatalf("floatText(%v, %d) = %q, want %q", g, bits, v.Text, want)
			}
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 999999, -999999, 1e6, 1e6 - 0.5, 123456.0, 5590, 0.5, math.Inf(1), math.NaN(), 16777217} {
		check(f)
	}
	for range 100000 {
		check(float64(r.IntN(2_000_000) - 1_000_000))
		check(r.NormFloat64() * 1e5)
	}
}
