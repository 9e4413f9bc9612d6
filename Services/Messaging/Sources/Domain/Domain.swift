// Domain: the service's types and rules, no I/O (docs/CONTRIBUTING.md).
