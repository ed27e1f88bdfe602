package demo

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "write data/*.csv from the generator")

// TestDemoData: the shipped demo files are exactly what the generator
// writes (deterministic), so they can be regenerated and reviewed; with
// -update it writes them.
func TestDemoData(t *testing.T) {
	files := generate()
	for _, name := range []string{"taxpayers", "vehicles", "buildings", "lands", "balances"} {
		p := filepath.Join("data", name+".csv")
		if *update {
			if err := os.MkdirAll("data", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, files[name]) {
			t.Errorf("%s differs from the generator's output (go test ./internal/demo -run TestDemoData -update): %v", p, err)
		}
	}
}

var (
	menFirst   = []string{"Ion", "Mihai", "Andrei", "Gheorghe", "Vasile", "Alexandru", "Florin", "Cristian", "Adrian", "Radu", "Ștefan", "Bogdan", "Dan", "Marius", "Sorin", "Ovidiu", "Călin", "Tudor"}
	womenFirst = []string{"Maria", "Elena", "Ioana", "Ana", "Mihaela", "Andreea", "Cristina", "Gabriela", "Alina", "Simona", "Diana", "Roxana", "Lavinia", "Corina", "Raluca", "Oana", "Ileana", "Lucia"}
	lastNames  = []string{"Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu", "Rusu", "Munteanu", "Mureșan", "Vlad", "Lazăr", "Toma", "Sârbu", "Bălan", "Oprea", "Avram", "Marin", "Szabo", "Kovacs", "Jurca", "Drăgan", "Crăciun", "Nistor"}
	streets    = []string{"Str. Mărășești", "Bd. Revoluției din 1989", "Calea Aradului", "Calea Șagului", "Str. Alba Iulia", "Bd. Take Ionescu", "Str. Paris", "Str. Londra", "Calea Lipovei", "Str. Gheorghe Lazăr", "Bd. Liviu Rebreanu", "Str. Ion Ionescu de la Brad", "Calea Buziașului", "Str. Oituz", "Aleea Viilor", "Str. Eroilor de la Tisa"}
	companies  = []string{"Bega Construct", "Timiș Logistic", "Fabrica de Pâine Fabric", "Banat Transport", "Cetate Software", "Iosefin Mobila", "Lipova Agro", "Mehala Auto", "Ronaț Metal", "Elisabetin Design", "Girocului Farm", "Freidorf Plast", "Dumbrăvița Imobiliare", "Calea Sever Trans", "Torontal Service", "Fratelia Impex", "Plopi Instal", "Cârpiniș Serv", "Bastion Media", "Mureș Industrial"}
	vinWMIs    = []string{"UU1", "WVW", "WBA", "VF1", "TMB", "ZFA", "WDD", "VSS", "KMH", "W0L", "YV1", "WF0"}
)

// demoGen is the deterministic generator of the demo city.
type demoGen struct {
	r    *rand.Rand
	cnps map[string]bool
	cuis map[string]bool
	vin  int
}

func cnpCheck(b string) string {
	w := [12]int{2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9}
	sum := 0
	for i := range 12 {
		sum += int(b[i]-'0') * w[i]
	}
	c := sum % 11
	if c == 10 {
		c = 1
	}
	return b + strconv.Itoa(c)
}

func (g *demoGen) cnp(woman bool) string {
	for {
		y := 1940 + g.r.IntN(64)
		s := 1
		if woman {
			s = 2
		}
		if y >= 2000 {
			s += 4
		}
		c := cnpCheck(fmt.Sprintf("%d%02d%02d%02d35%03d", s, y%100, 1+g.r.IntN(12), 1+g.r.IntN(28), 1+g.r.IntN(999)))
		if !g.cnps[c] && c != Ana.CNP && c != "1780305460017" { // Stan Gheorghe: the test ROeID's registered identity
			g.cnps[c] = true
			return c
		}
	}
}

func (g *demoGen) cui() string {
	for {
		body := fmt.Sprintf("%09d", 10000000+g.r.IntN(40000000))
		w := [9]int{7, 5, 3, 2, 1, 7, 5, 3, 2}
		sum := 0
		for i := range w {
			sum += int(body[i]-'0') * w[i]
		}
		c := sum * 10 % 11
		if c == 10 {
			c = 0
		}
		full := strings.TrimLeft(body, "0") + strconv.Itoa(c)
		if !g.cuis[full] {
			g.cuis[full] = true
			return full
		}
	}
}

func (g *demoGen) vinFor() string {
	const chars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
	g.vin++
	b := []byte(vinWMIs[g.r.IntN(len(vinWMIs))])
	for range 6 {
		b = append(b, chars[g.r.IntN(len(chars))])
	}
	return fmt.Sprintf("%s%08d", b, g.vin)
}

func (g *demoGen) plate() string {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	return fmt.Sprintf("TM%02d%c%c%c", 1+g.r.IntN(99), letters[g.r.IntN(len(letters))], letters[g.r.IntN(len(letters))], letters[g.r.IntN(len(letters))])
}

func (g *demoGen) date(from, to int) string {
	return fmt.Sprintf("%d-%02d-%02d", from+g.r.IntN(to-from+1), 1+g.r.IntN(12), 1+g.r.IntN(28))
}

func ascii(s string) string {
	return strings.ToLower(strings.NewReplacer("ă", "a", "â", "a", "î", "i", "ș", "s", "ț", "t", "Ș", "s", "Ț", "t", "Ă", "a").Replace(s))
}

func lei(bani int) string { return fmt.Sprintf("%d,%02d", bani/100, bani%100) }

type sheet struct {
	buf bytes.Buffer
	w   *csv.Writer
}

func newSheet(header string) *sheet {
	s := &sheet{}
	s.w = csv.NewWriter(&s.buf)
	s.w.Write(strings.Split(header, ","))
	return s
}

func (s *sheet) row(v ...string) { s.w.Write(v) }

func (s *sheet) bytes() []byte { s.w.Flush(); return s.buf.Bytes() }

// generate writes the demo city: 300 taxpayers (280 individuals, 20
// companies), their cars, flats in blocks (every fourth co-owned by two
// owners), plots, and 2025 debts not paid (or partly) in the old system.
func generate() map[string][]byte {
	g := &demoGen{r: rand.New(rand.NewPCG(2026, 20)), cnps: map[string]bool{}, cuis: map[string]bool{}}
	tps := newSheet("external_id,kind,cnp,cui,name,address,email,phone")
	vs := newSheet("external_id,owner_external_id,vin,plate,category,engine_cc,emission_class,propulsion,co2_g_km,max_mass_kg,axles,air_suspension,acquired_on,deregistered_on")
	bs := newSheet("external_id,owner_external_id,share,address,cadastral_number,use,construction_type,basement_or_attic,utilities,built_area_m2,usable_area_m2,zone,year_built,acquired_on,disposed_on")
	ls := newSheet("external_id,owner_external_id,share,address,cadastral_number,location,zone,use_category,area_m2,acquired_on,disposed_on")
	bal := newSheet("owner_external_id,tax_type,year,installment,due_date,principal,paid,object_external_id,budget_code")
	var nv, nb, nl int
	vehicle := func(owner string, company bool) string {
		nv++
		id := fmt.Sprintf("V%04d", nv)
		acq := g.date(2008, 2025)
		switch {
		case company && g.r.IntN(3) == 0:
			vs.row(id, owner, g.vinFor(), g.plate(), "truck", "12800", "euro6", "combustion", "", strconv.Itoa(18000+1000*g.r.IntN(8)), "2", "da", acq, "")
		case company && g.r.IntN(2) == 0:
			vs.row(id, owner, g.vinFor(), g.plate(), "light_goods", strconv.Itoa(1900+g.r.IntN(1100)), "euro6", "combustion", "", "", "", "", acq, "")
		case g.r.IntN(12) == 0:
			vs.row(id, owner, g.vinFor(), g.plate(), "car", "", "", "electric", "", "", "", "", g.date(2020, 2025), "")
		case g.r.IntN(8) == 0:
			vs.row(id, owner, g.vinFor(), g.plate(), "car", strconv.Itoa(1500+g.r.IntN(1000)), "euro6", "hybrid", strconv.Itoa(80+g.r.IntN(60)), "", "", "", g.date(2018, 2025), "")
		default:
			euro := []string{"euro3", "euro4", "euro5", "euro6"}[g.r.IntN(4)]
			vs.row(id, owner, g.vinFor(), g.plate(), "car", strconv.Itoa(1000+100*g.r.IntN(20)), euro, "combustion", "", "", "", "", acq, "")
		}
		return id
	}
	flat := func(owners []string, shares []string, street string, acq string) string {
		nb++
		cad := fmt.Sprintf("TM-4%05d-C1-U%d", 10000+nb, 1+g.r.IntN(40))
		area := fmt.Sprintf("%d,%d", 35+g.r.IntN(70), g.r.IntN(10))
		acqYear, _ := strconv.Atoi(acq[:4])
		year := strconv.Itoa(min(1965+g.r.IntN(55), acqYear)) // built by the time it was bought
		ct := []string{"A", "A", "B"}[g.r.IntN(3)]
		zone := []string{"A", "A", "B", "C"}[g.r.IntN(4)]
		var first string
		for i, o := range owners {
			id := fmt.Sprintf("B%04d", nb)
			if i > 0 {
				id += "-" + strconv.Itoa(i+1)
			}
			if i == 0 {
				first = id
			}
			bs.row(id, o, shares[i], street, cad, "residential", ct, "", "da", "", area, zone, year, acq, "")
		}
		return first
	}
	plot := func(owner, street string, company bool) string {
		nl++
		id := fmt.Sprintf("L%04d", nl)
		cad := fmt.Sprintf("TM-5%05d", 10000+nl)
		if company || g.r.IntN(2) == 0 {
			ls.row(id, owner, "1", street, cad, "intravilan", []string{"A", "B", "C"}[g.r.IntN(3)], "constructions", strconv.Itoa(300+10*g.r.IntN(100)), g.date(1995, 2025), "")
		} else {
			ls.row(id, owner, "1", "Extravilan "+[]string{"Giroc", "Dumbrăvița", "Ghiroda", "Moșnița"}[g.r.IntN(4)]+", tarla "+strconv.Itoa(1+g.r.IntN(60)),
				cad, "extravilan", []string{"A", "B", "C", "D"}[g.r.IntN(4)], []string{"arable", "pasture", "orchard", "vineyard", "forest"}[g.r.IntN(5)],
				strconv.Itoa(2000+500*g.r.IntN(40)), g.date(1995, 2025), "")
		}
		return id
	}
	// debt carries over an unpaid (or partly paid) 2025 instalment.
	debt := func(owner, tax string, inst int, principal int, paidPct int, object string) {
		due := "2025-03-31"
		if inst == 2 {
			due = "2025-09-30"
		}
		paid := principal * paidPct / 100
		bal.row(owner, tax, "2025", strconv.Itoa(inst), due, lei(principal), lei(paid), object, "")
	}

	// Ana Popescu and her husband Mihai: a car, a flat held half each, a
	// plot; her 2025 car tax's second instalment and part of the flat's
	// first are unpaid.
	tps.row("TP0001", "individual", Ana.CNP, "", "Ana Popescu", "Str. Mărășești 4, ap. 7, Timișoara", Ana.Email, "0722100001")
	tps.row("TP0002", "individual", cnpCheck("183030435012"), "", "Mihai Popescu", "Str. Mărășești 4, ap. 7, Timișoara", "", "0722100002")
	nv++
	vs.row("V0001", "TP0001", "WVWZZZ1KZ8W000001", "TM04ANA", "car", "1598", "euro5", "combustion", "", "", "", "", "2019-05-10", "")
	nb++
	bs.row("B0001", "TP0001", "0,5", "Str. Mărășești 4, ap. 7, Timișoara", "TM-410001-C1-U7", "residential", "A", "", "da", "", "64,5", "A", "1978", "2012-08-20", "")
	bs.row("B0001-2", "TP0002", "0,5", "Str. Mărășești 4, ap. 7, Timișoara", "TM-410001-C1-U7", "residential", "A", "", "da", "", "64,5", "A", "1978", "2012-08-20", "")
	nl++
	ls.row("L0001", "TP0001", "1", "Extravilan Giroc, tarla 17", "TM-510001", "extravilan", "B", "orchard", "2500", "2016-04-11", "")
	bal.row("TP0001", "vehicle", "2025", "2", "2025-09-30", "83,00", "0", "V0001", "")
	bal.row("TP0001", "building", "2025", "1", "2025-03-31", "142,00", "60,00", "B0001", "")
	debt("TP0002", "building", 1, 14200, 0, "B0001-2")

	var individuals []string
	for i := 3; i <= 280; i++ {
		id := fmt.Sprintf("TP%04d", i)
		woman := g.r.IntN(2) == 0
		first := menFirst[g.r.IntN(len(menFirst))]
		if woman {
			first = womenFirst[g.r.IntN(len(womenFirst))]
		}
		last := lastNames[g.r.IntN(len(lastNames))]
		street := fmt.Sprintf("%s %d, ap. %d, Timișoara", streets[g.r.IntN(len(streets))], 1+g.r.IntN(120), 1+g.r.IntN(60))
		email := ""
		if g.r.IntN(3) == 0 {
			email = ascii(first+"."+last) + "@example.ro"
		}
		tps.row(id, "individual", g.cnp(woman), "", last+" "+first, street, email, "")
		individuals = append(individuals, id)
	}
	for i := 281; i <= 300; i++ {
		id := fmt.Sprintf("TP%04d", i)
		name := "SC " + companies[i-281] + " SRL"
		street := fmt.Sprintf("%s %d, Timișoara", streets[g.r.IntN(len(streets))], 1+g.r.IntN(200))
		tps.row(id, "company", "", "RO"+g.cui(), name, street, "office@"+ascii(strings.Fields(companies[i-281])[0])+".example.ro", "")
		for range 1 + g.r.IntN(4) {
			v := vehicle(id, true)
			if g.r.IntN(4) == 0 {
				debt(id, "vehicle", 2, 30000+g.r.IntN(150000), 0, v)
			}
		}
		l := plot(id, street, true)
		if g.r.IntN(3) == 0 {
			debt(id, "land", 1, 50000+g.r.IntN(200000), 50, l)
		}
	}
	for i := 0; i < len(individuals); i++ {
		id := individuals[i]
		street := fmt.Sprintf("%s %d, ap. %d, Timișoara", streets[g.r.IntN(len(streets))], 1+g.r.IntN(120), 1+g.r.IntN(60))
		if g.r.IntN(10) < 6 {
			v := vehicle(id, false)
			if g.r.IntN(10) < 2 {
				debt(id, "vehicle", 1+g.r.IntN(2), 5000+g.r.IntN(40000), []int{0, 0, 50}[g.r.IntN(3)], v)
			}
			if g.r.IntN(10) == 0 {
				vehicle(id, false)
			}
		}
		if g.r.IntN(10) < 7 {
			acq := g.date(1995, 2025)
			if i%4 == 0 && i+1 < len(individuals) { // co-owned with the next one
				shares := [][]string{{"0,5", "0,5"}, {"0,6667", "0,3333"}, {"0,75", "0,25"}}[g.r.IntN(3)]
				b := flat([]string{id, individuals[i+1]}, shares, street, acq)
				if g.r.IntN(10) < 3 {
					debt(id, "building", 1, 3000+g.r.IntN(30000), 0, b)
				}
			} else if i%4 != 1 {
				b := flat([]string{id}, []string{"1"}, street, acq)
				if g.r.IntN(10) < 2 {
					debt(id, "building", 1+g.r.IntN(2), 5000+g.r.IntN(40000), []int{0, 30}[g.r.IntN(2)], b)
				}
			}
		}
		if g.r.IntN(10) < 2 {
			l := plot(id, street, false)
			if g.r.IntN(4) == 0 {
				debt(id, "land", 1, 2000+g.r.IntN(8000), 0, l)
			}
		}
	}
	return map[string][]byte{"taxpayers": tps.bytes(), "vehicles": vs.bytes(), "buildings": bs.bytes(), "lands": ls.bytes(), "balances": bal.bytes()}
}
