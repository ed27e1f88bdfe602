package pdf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// poppler runs a poppler-utils tool on pdf, written to a temporary file that
// replaces the argument "{}", and returns what the tool printed and its exit
// code. A missing tool fails the test: its checks are the point of the test,
// which must not pass without them.
func poppler(t testing.TB, tool string, pdf []byte, args ...string) (out string, exitCode int) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found (%v): apt-get install -y poppler-utils", tool, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if a == "{}" {
			args[i] = file
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return stdout.String() + stderr.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", tool, err)
	}
	return stdout.String() + stderr.String(), 0
}

// pdfText is the text of pdf as pdftotext extracts it, keeping the layout.
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	out, code := poppler(t, "pdftotext", pdf, "-layout", "-enc", "UTF-8", "{}", "-")
	if code != 0 {
		t.Fatalf("pdftotext exit %d: %s", code, out)
	}
	return out
}
