package setup

import "github.com/ai-sandbox/ai-sandbox/internal/ui"

// Asker asks the wizard's questions (ui.Asker). The real one asks them on
// the terminal with survey; tests answer them from a script. An interrupt
// (Ctrl-C) is survey's terminal.InterruptErr: setup ends with exit 130.
type Asker = ui.Asker
