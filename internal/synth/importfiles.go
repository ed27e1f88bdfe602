package synth

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// ImportOptions size the export files of a synthetic city (the import
// benchmark, `fiscald bench import-files`).
type ImportOptions struct {
	Seed     uint64
	Owners   int
	Vehicles int
	Year     int
}

// ImportFiles writes a synthetic city as the import's CSV files: Owners
// taxpayers (external ids T0000001...) and Vehicles vehicles (V00000001...)
// spread over them, with valid CNPs, CUIs and VINs; deterministic for a
// seed.
func ImportFiles(o ImportOptions, taxpayers, vehicles io.Writer) error {
	if o.Year == 0 {
		o.Year = 2026
	}
	if o.Owners <= 0 {
		return fmt.Errorf("synth: at least one owner")
	}
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), o: Options{Seed: o.Seed, Year: o.Year, Vehicles: o.Vehicles},
		cnps: map[uint64]struct{}{}, cuis: map[uint64]struct{}{}}
	tb, vb := bufio.NewWriterSize(taxpayers, 1<<16), bufio.NewWriterSize(vehicles, 1<<16)
	tw, vw := csv.NewWriter(tb), csv.NewWriter(vb)
	if err := tw.Write([]string{"external_id", "kind", "cnp", "cui", "name", "address", "email", "phone"}); err != nil {
		return err
	}
	if err := vw.Write([]string{"external_id", "owner_external_id", "vin", "plate", "category", "engine_cc", "emission_class", "propulsion",
		"co2_g_km", "max_mass_kg", "axles", "air_suspension", "acquired_on", "deregistered_on"}); err != nil {
		return err
	}
	emitted := 0
	for i := 0; i < o.Owners; i++ {
		tp := g.taxpayer()
		ext := fmt.Sprintf("T%07d", i+1)
		if err := tw.Write([]string{ext, string(tp.Kind), tp.CNP, tp.CUI, tp.Name, tp.Address, tp.Email, ""}); err != nil {
			return err
		}
		want := int(int64(i+1)*int64(o.Vehicles)/int64(o.Owners)) - emitted
		vs := tp.Vehicles
		for len(vs) < want {
			vs = append(vs, g.vehicle(tp.CUI != ""))
		}
		for _, v := range vs[:want] {
			emitted++
			co2, dereg := "", ""
			if v.Object.CO2GKm != nil {
				co2 = strconv.Itoa(*v.Object.CO2GKm)
			}
			if v.DeregisteredOn != nil {
				dereg = v.DeregisteredOn.String()
			}
			if err := vw.Write([]string{fmt.Sprintf("V%08d", emitted), ext, v.VIN, v.Plate, v.Category, strconv.Itoa(v.EngineCC), v.EmissionClass,
				v.Propulsion, co2, itoa0(v.Object.MaxMassKg), itoa0(v.Object.Axles), strconv.FormatBool(v.Object.AirSuspension),
				v.AcquiredOn.String(), dereg}); err != nil {
				return err
			}
		}
	}
	tw.Flush()
	vw.Flush()
	if err := tw.Error(); err != nil {
		return err
	}
	if err := vw.Error(); err != nil {
		return err
	}
	if err := tb.Flush(); err != nil {
		return err
	}
	return vb.Flush()
}

func itoa0(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
