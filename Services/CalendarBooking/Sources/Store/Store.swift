// Stores: all SQL of the service, one store per aggregate, each owning its statements, transactions, audit rows
// and the mapping of its constraint violations to errors (docs/CONTRIBUTING.md).
