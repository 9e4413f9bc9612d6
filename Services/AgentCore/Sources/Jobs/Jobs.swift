// Jobs: job handlers and background loops such as sweepers (docs/CONTRIBUTING.md).
