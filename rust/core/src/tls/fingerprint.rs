//! (being ported from inspector/tls/fingerprint.py)
