package sim

import (
	"bytes"
	"fmt"
	"strings"
)

// Movie is one catalog entry as it appears in Movies.txt.
type Movie struct {
	ItemID    string
	Title     string
	Genre     string
	ListPrice string  // raw, in one of several messy formats
	Price     float64 // the dollar value a correct parser extracts
	Currency  string  // always "USD"
}

var movieTitles = []struct{ title, genre string }{
	{"The General", "Comedy"}, {"Metropolis", "Sci-Fi"}, {"Nosferatu", "Horror"},
	{"City Lights", "Romance"}, {"Modern Times", "Comedy"}, {"The Kid", "Drama"},
	{"Safety Last!", "Comedy"}, {"Sherlock Jr.", "Comedy"}, {"The Gold Rush", "Adventure"},
	{"Battleship Potemkin", "History"}, {"Sunrise", "Romance"}, {"The Passion of Joan of Arc", "Drama"},
	{"Night of the Living Dead", "Horror"}, {"His Girl Friday", "Comedy"}, {"Charade", "Thriller"},
	{"The Little Shop of Horrors", "Horror"}, {"Detour", "Crime"}, {"D.O.A.", "Crime"},
	{"The Stranger", "Thriller"}, {"Scarlet Street", "Crime"}, {"Carnival of Souls", "Horror"},
	{"Plan 9 from Outer Space", "Sci-Fi"}, {"The Last Man on Earth", "Sci-Fi"}, {"McLintock!", "Western"},
	{"Angel and the Badman", "Western"}, {"The Man with the Golden Arm", "Drama"}, {"Gulliver's Travels", "Animation"},
	{"Reefer Madness", "Drama"}, {"The Phantom of the Opera", "Horror"}, {"Dementia 13", "Horror"},
	{"Meet John Doe", "Drama"}, {"The Lost World", "Adventure"}, {"Robot Monster", "Sci-Fi"},
	{"Penny Serenade", "Romance"}, {"The Screaming Skull", "Horror"}, {"Salt of the Earth", "Drama"},
	{"Beat the Devil", "Adventure"}, {"Kansas City Confidential", "Crime"}, {"The Hitch-Hiker", "Thriller"},
	{"Too Late for Tears", "Crime"}, {"Quicksand", "Crime"}, {"Impact", "Thriller"},
	{"The Terror", "Horror"}, {"Royal Wedding", "Musical"}, {"Life with Father", "Comedy"},
	{"Jungle Book", "Adventure"}, {"A Star Is Born", "Musical"}, {"Nothing Sacred", "Comedy"},
	{"The Brain That Wouldn't Die", "Sci-Fi"}, {"House on Haunted Hill", "Horror"},
}

// Movies returns the fixed catalog of 50 movies (independent of any seed).
// ListPrice uses the messy formats found in real Movies.txt files.
func Movies() []Movie {
	out := make([]Movie, len(movieTitles))
	for i, m := range movieTitles {
		cents := 499 + (i*7919)%4500 // 4.99 .. 49.98
		cents = cents - cents%100 + 99
		if i%5 == 2 {
			cents = cents - 99 + 50
		}
		dollars := fmt.Sprintf("%d.%02d", cents/100, cents%100)
		var raw string
		switch i % 6 {
		case 0:
			raw = fmt.Sprintf("%dUSD$%s", cents, dollars) // 4999USD$49.99
		case 1:
			raw = "$" + dollars
		case 2:
			raw = "USD " + dollars
		case 3:
			raw = dollars + " USD"
		case 4:
			raw = "$ " + dollars
		case 5:
			raw = fmt.Sprintf(" %dUSD$%s ", cents, dollars) // padded
		}
		out[i] = Movie{
			ItemID:    fmt.Sprintf("B%09d", 100000000+i*7331),
			Title:     m.title,
			Genre:     m.genre,
			ListPrice: raw,
			Price:     float64(cents) / 100,
			Currency:  "USD",
		}
	}
	return out
}

// MoviesTxt renders Movies() as a Movies.txt file: UTF-8, LF line ends, a
// header line "item_id\ttitle\tgenre\tListPrice", then one tab-separated line
// per movie. Fields never contain tabs or newlines; ListPrice is raw (it may
// carry leading/trailing spaces).
func MoviesTxt() []byte {
	var b bytes.Buffer
	b.WriteString("item_id\ttitle\tgenre\tListPrice\n")
	for _, m := range Movies() {
		b.WriteString(strings.Join([]string{m.ItemID, m.Title, m.Genre, m.ListPrice}, "\t"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
