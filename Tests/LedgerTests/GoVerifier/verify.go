// An independent verifier of Notarium ledger proofs and checkpoints, built only on Go's
// golang.org/x/mod/sumdb/tlog and sumdb/note (Debian: golang-golang-x-mod-dev). The Swift test
// LedgerTests/GoInteropTests writes the input file, runs this program and reads one verdict
// line per item: "ok ..." or "fail <reason>".
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run verify.go input.json
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leafHash"`
	RootHash string   `json:"rootHash"`
	Proof    []string `json:"proof"`
}

type consistency struct {
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"fromRoot"`
	ToRoot   string   `json:"toRoot"`
	Proof    []string `json:"proof"`
}

type input struct {
	VerifierKey string        `json:"verifierKey"`
	Notes       []string      `json:"notes"`
	Entries     []string      `json:"entries"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hash(text string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != len(h) {
		return h, fmt.Errorf("bad hash %q", text)
	}
	copy(h[:], raw)
	return h, nil
}

func hashes(texts []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(texts))
	for _, t := range texts {
		h, err := hash(t)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("fail", err)
		os.Exit(2)
	}
	var in input
	if err := json.Unmarshal(data, &in); err != nil {
		fmt.Println("fail", err)
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		fmt.Println("fail verifier key:", err)
		os.Exit(2)
	}
	for _, text := range in.Notes {
		n, err := note.Open([]byte(text), note.VerifierList(verifier))
		if err != nil {
			fmt.Println("fail note:", err)
			continue
		}
		// A C2SP checkpoint: origin, size, base64 root, then optional extension lines.
		// (tlog.ParseTree accepts only the go.sum origin, so the lines are read here.)
		lines := strings.SplitN(n.Text, "\n", 4)
		if len(lines) < 4 || lines[0] != verifier.Name() {
			fmt.Println("fail checkpoint: malformed body or wrong origin")
			continue
		}
		size, err := strconv.ParseInt(lines[1], 10, 64)
		if err != nil {
			fmt.Println("fail checkpoint size:", err)
			continue
		}
		if _, err := hash(lines[2]); err != nil {
			fmt.Println("fail checkpoint root:", err)
			continue
		}
		fmt.Printf("ok note %d %s\n", size, lines[2])
	}
	for _, e := range in.Entries {
		raw, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			fmt.Println("fail entry:", err)
			continue
		}
		fmt.Printf("ok leaf %s\n", base64.StdEncoding.EncodeToString(func() []byte { h := tlog.RecordHash(raw); return h[:] }()))
	}
	for _, p := range in.Inclusion {
		leaf, err1 := hash(p.LeafHash)
		root, err2 := hash(p.RootHash)
		proof, err3 := hashes(p.Proof)
		if err1 != nil || err2 != nil || err3 != nil {
			fmt.Println("fail inclusion: bad hash")
			continue
		}
		if err := tlog.CheckRecord(tlog.RecordProof(proof), p.Size, root, p.Index, leaf); err != nil {
			fmt.Printf("fail inclusion %d/%d: %v\n", p.Index, p.Size, err)
			continue
		}
		fmt.Printf("ok inclusion %d %d\n", p.Index, p.Size)
	}
	for _, p := range in.Consistency {
		from, err1 := hash(p.FromRoot)
		to, err2 := hash(p.ToRoot)
		proof, err3 := hashes(p.Proof)
		if err1 != nil || err2 != nil || err3 != nil {
			fmt.Println("fail consistency: bad hash")
			continue
		}
		if err := tlog.CheckTree(tlog.TreeProof(proof), p.To, to, p.From, from); err != nil {
			fmt.Printf("fail consistency %d/%d: %v\n", p.From, p.To, err)
			continue
		}
		fmt.Printf("ok consistency %d %d\n", p.From, p.To)
	}
}
