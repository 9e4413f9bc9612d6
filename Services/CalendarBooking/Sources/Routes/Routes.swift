// Controllers: validate input, call a store, shape the answer; no SQL here (docs/CONTRIBUTING.md).
