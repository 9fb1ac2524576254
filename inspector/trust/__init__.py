"""Trust: validate a certificate chain the way the peer did, at the capture's time.

Sans-I/O except the explicit loaders (`load_trust`, `builtin_trust_set`).  X.509 work is done by
``cryptography``: every signature is checked with ``Certificate.verify_directly_issued_by`` and,
when the chain reaches a certificate of the given trust store, cryptography's own RFC 5280
verifier (``x509.verification.PolicyBuilder``) is run as well and its verdict recorded.  What is
written here is the *path choice* (the way OpenSSL chooses it: names plus AKI/SKI, trusted store
first) and the order in which problems are reported (OpenSSL's order, so the first problem is the
one the peer's alert was about):

1. trust: the path ends in the store (``ok``), at a name-only anchor (``ok_by_name:<CN>``), at an
   untrusted self-signed leaf (``self_signed``) or elsewhere (``unknown_issuer:<issuer>``);
2. chain extensions, leaf first: CA flag and keyCertSign (``not_a_ca:<CN>``), extended key usage
   (``wrong_purpose:<CN>``), path length (``path_length_exceeded``);
3. the name the client asked for (``name_mismatch``), server chains only;
4. from the anchor down to the leaf: each signature (``bad_signature:<CN>``), then validity at the
   capture time (``expired:<CN>``, ``not_yet_valid:<CN>``).

Other statuses: ``no_certificate`` (empty chain), ``unparseable:<sha256[:16]>`` (the leaf's DER does
not decode).  `Validation.problems` lists every problem found, the status first.

Trust stores hold certificates (``Anchor.der``) and, for sets known only by name (the Cisco
manufacturing CAs), name-only anchors: a chain that ends at such a name is ``ok_by_name:<CN>``,
because no signature could be checked against it.

Modules (the pipeline's trust stage):

=============  ========================================================================
`nodes`        names as comparable keys; each DER parsed once into a `_Node`
`store`        `Anchor`, `TrustStore`, `TrustError`
`load`         `load_trust` (files, directories, tar/zip exports), `builtin_trust_set`,
               `combined_store` -- the only I/O
`validate`     `Validation`, `validate_chain`, `validate_client_chain_against_request`
`columns`      `validate_flow`, `flow_validations`, the ``*_validation`` columns
`hint`         `trust_store_hint`: which Cisco trust store a missing CA belongs in
=============  ========================================================================

cryptography is imported when the first certificate or trust store is read, never by importing
this package.
"""

from __future__ import annotations

from .columns import (ValidationMemo, flow_hostname, flow_validation_columns, flow_validations, validate_flow,
                      validated_flow_rows)
from .hint import trust_store_hint
from .load import BUILTIN_TRUST_SETS, CISCO_MIC_CA_NAMES, builtin_trust_set, certificates_from_bytes, combined_store, load_trust
from .store import Anchor, TrustError, TrustStore
from .validate import Purpose, Validation, validate_chain, validate_client_chain_against_request

__all__ = [
    "Anchor",
    "BUILTIN_TRUST_SETS",
    "TrustError",
    "TrustStore",
    "Validation",
    "builtin_trust_set",
    "flow_validation_columns",
    "flow_validations",
    "load_trust",
    "trust_store_hint",
    "validate_chain",
    "validate_client_chain_against_request",
    "validate_flow",
    "validated_flow_rows",
    "ValidationMemo",
]
