package cli

import (
	"slices"
	"testing"
)

func TestChangeListLeavesTheSavedListAlone(t *testing.T) {
	saved := []string{"a", "b"}
	out, missing := changeList(saved, []string{"a", "nope"}, false)
	if !slices.Equal(missing, []string{"nope"}) || !slices.Equal(out, []string{"b"}) {
		t.Errorf("out %v, missing %v", out, missing)
	}
	if !slices.Equal(saved, []string{"a", "b"}) {
		t.Errorf("the saved list changed under a refused removal: %v", saved)
	}
	out, missing = changeList(saved, []string{"c", "a"}, true)
	if missing != nil || !slices.Equal(out, []string{"a", "b", "c"}) {
		t.Errorf("add: out %v, missing %v", out, missing)
	}
}
