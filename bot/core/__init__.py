"""Pure core: event model, actions, arithmetic. No I/O lives here."""
