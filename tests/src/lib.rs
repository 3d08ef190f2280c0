//! Test harness for halfopen's kernel-backed integration tests.
