//! (being ported from inspector/engine.py)
