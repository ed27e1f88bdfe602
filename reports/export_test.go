package reports

// SetSheetRows changes the rows per XLSX worksheet (tests); it returns a
// function restoring the limit.
func SetSheetRows(n int) func() {
	old := sheetRows
	sheetRows = n
	return func() { sheetRows = old }
}
