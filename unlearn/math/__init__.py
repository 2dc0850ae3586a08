"""Pure math on tensors and modules: no Lightning, testable on plain tensors."""
