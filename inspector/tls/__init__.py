"""TLS wire formats: code tables (`constants`, `ciphers`) and sans-I/O parsers (`messages`)."""
