//! (being ported from inspector/flow.py)
