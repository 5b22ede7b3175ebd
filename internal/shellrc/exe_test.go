package shellrc

import "testing"

func TestExeReadsBackTheBlock(t *testing.T) {
	for _, exe := range []string{"/usr/local/bin/ai-sandbox", `/home/u/bin dir/it's "here"/ai-sandbox`} {
		for _, sh := range All() {
			block, err := Block(sh, exe, []string{"opencode"}, []Alias{{Name: "opencode", Args: []string{"run", "opencode"}}, {Name: "ai-run", Args: []string{"run"}}})
			if err != nil {
				t.Fatal(err)
			}
			content := "# mine\n" + block
			if got := Exe(sh, content); got != exe {
				t.Errorf("%s: Exe = %q, want %q\n%s", sh, got, exe, block)
			}
			if ok, err := HasBlock(content); !ok || err != nil {
				t.Errorf("%s: HasBlock = %v, %v", sh, ok, err)
			}
		}
	}
	if Exe(Bash, "alias x=y\n") != "" {
		t.Error("Exe found something without a block")
	}
	if ok, _ := HasBlock("alias x=y\n"); ok {
		t.Error("HasBlock without a block")
	}
}
