//! Support code for the end-to-end tests (local control plane, kubectl).
