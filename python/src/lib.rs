//! Python bindings for halfopen (built by maturin into the wheel `halfopen`).
