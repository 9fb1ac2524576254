//! (being ported from inspector/tls/detect.py)
