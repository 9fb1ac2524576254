//! (being ported from inspector/tls/decrypt.py)
