//! The capture reader on real files gives Python's answers exactly: packet counts, skipped
//! records, format, bytes read, warnings, errors, every timestamp bit for bit and every byte.
//!
//! The expectations are literals printed by Python's reader (`inspector.sources.capture.CaptureReader`,
//! the reference), with this script run from the repository root as
//! `PYTHONPATH=$PWD .venv/bin/python emit.py ROOT FILES...`:
//!
//! ```python
//! import sys, hashlib, struct, json
//! from pathlib import Path
//! from inspector.sources.capture import CaptureReader
//! from inspector.errors import CaptureError
//! def bits(x): return "None" if x is None else "Some(0x%016x)" % struct.unpack('<Q', struct.pack('<d', x))[0]
//! def rs(s): return json.dumps(s, ensure_ascii=False)
//! def expect(p, label):
//!     r = CaptureReader(Path(p)); h = hashlib.sha256(); n = 0; err = None; first = last = None
//!     try:
//!         for ts, lt, data, orig in r.packets():
//!             h.update(struct.pack('<dIII', ts, lt, orig, len(data))); h.update(data); n += 1
//!             if first is None: first = ts
//!             last = ts
//!     except CaptureError as e:
//!         err = str(e)
//!     ws = ", ".join("(%s, %s)" % (rs(w.code), rs(w.detail)) for w in r.warnings)
//!     print(f"    Expect {{ path: {rs(label)}, packets: {n}, skipped: {r.skipped_packets}, format: {rs(r.format)}, "
//!           f"bytes_read: {r.bytes_read}, warnings: &[{ws}], error: {'None' if err is None else 'Some(' + rs(err) + ')'}, "
//!           f"sha256: {rs(h.hexdigest())}, first_ts: {bits(first)}, last_ts: {bits(last)} }},")
//! root = Path(sys.argv[1])
//! for p in sys.argv[2:]:
//!     expect(p, str(Path(p).resolve().relative_to(root.resolve())))
//! ```

mod capture_support;

use capture_support::{check, observe, one_byte, repo_root, Expect};
use tlsinspect_core::capture::CaptureReader;

/// `pcaps/*.pcap*` and `tests/data/crashes/*.pcap*` (root: the repository).
const REPO: &[Expect] = &[
    Expect { path: "pcaps/ca_chain_8443.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 4454, warnings: &[], error: None, sha256: "894db372a87cb3ea68f054ec3e211d4107f5984ed5d733130ab1a61e7e334778", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40005bea) },
    Expect { path: "pcaps/cisco_lab_mix.pcapng", packets: 139, skipped: 0, format: "pcapng", bytes_read: 42140, warnings: &[], error: None, sha256: "85e664ddb4e7c0efd38fb361c87ca864f603cf504db1277db7c85ae7256b1dde", first_ts: Some(0x41d954fc4f000000), last_ts: Some(0x41d954fc4f4084b6) },
    Expect { path: "pcaps/dhe1024_443.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 4269, warnings: &[], error: None, sha256: "9170ea4a853831c85b38eb030ad7c63d022f3a6d60f39bf031dd66bb04e2866d", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40005bea) },
    Expect { path: "pcaps/ecdsa_selfsigned_6972_unknown_ca.pcap", packets: 20, skipped: 0, format: "pcap", bytes_read: 4075, warnings: &[], error: None, sha256: "3bc084ccce237e51436a1f3239cb6506fef695065ef00cd7000dc2ac3af6da54", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40403afb) },
    Expect { path: "pcaps/expired_root_443.pcap", packets: 10, skipped: 0, format: "pcap", bytes_read: 2334, warnings: &[], error: None, sha256: "ac43710356d42e2de07a808b489ac84ed89e134cf55773fa030943f8564b0e7a", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40003afb) },
    Expect { path: "pcaps/lsc_2443.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 5226, warnings: &[], error: None, sha256: "3cdff488250fe1b64f5e89b6305e3e223db8392ddad13307346b0a6a3dfe8eac", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40004ecf) },
    Expect { path: "pcaps/lsc_5061.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 5233, warnings: &[], error: None, sha256: "b07cb8c2b8547a3628c379c9110d4e150b88996f76e1a770d6c86311d07b220b", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40004ecf) },
    Expect { path: "pcaps/lsc_rejected_unknown_ca.pcap", packets: 11, skipped: 0, format: "pcap", bytes_read: 3702, warnings: &[], error: None, sha256: "cc7096d4b6accf8be402ffb66deffa0339027fc03e10c4263b3ad48a7616a117", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40004189) },
    Expect { path: "pcaps/mic_2443.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 5989, warnings: &[], error: None, sha256: "1e702658c4c73a88b255f2134196134fb80069739e747e6a918722adebc015b5", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40004ecf) },
    Expect { path: "pcaps/mic_5061.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 6112, warnings: &[], error: None, sha256: "ef81aeee2c3f654170abf3b767ea88aaf3203cc15d9400ce499937dd4d10878d", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40004ecf) },
    Expect { path: "pcaps/resumption_8443.pcap", packets: 31, skipped: 0, format: "pcap", bytes_read: 6283, warnings: &[], error: None, sha256: "68a3ce3ba357ba1a5363d8a9ef197bd5ad0f6a323d1d70356105792f19f18dc8", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40405bc0) },
    Expect { path: "pcaps/sni_mismatch_8443.pcap", packets: 11, skipped: 0, format: "pcap", bytes_read: 3559, warnings: &[], error: None, sha256: "2170bd4edd17392a8331528c384053e78dc32a2c99f74263ce2e551686e8cb78", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40003b25) },
    Expect { path: "pcaps/spa_provisioning_dhe1024_443.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 5916, warnings: &[], error: None, sha256: "9f843968762227a1eb84d3790ff0235e06fe300dd33c30bcbe4db1ca9d7c04e6", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40005bea) },
    Expect { path: "pcaps/spa_provisioning_dhe2048_443.pcap", packets: 10, skipped: 0, format: "pcap", bytes_read: 2796, warnings: &[], error: None, sha256: "1abd8398e7a675e1f53cba185c6c410839190d0968bfbf04241ab08818ad2d54", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40003498) },
    Expect { path: "pcaps/tls13_443.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 4848, warnings: &[], error: None, sha256: "d8b12bf05d58a074427f90f957a108c5ef5889118a459b3b9b36202bad9c8a19", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40005bea) },
    Expect { path: "tests/data/crashes/far_future_timestamp.pcapng", packets: 11, skipped: 0, format: "pcapng", bytes_read: 3936, warnings: &[("timestamp_out_of_range", "a packet timestamp (10000000000000 s) is out of range; such timestamps are shown as 1970-01-01")], error: None, sha256: "086ca77876a7541b113ed4a32caca2a896aefce64685662ad89d1b7f37687e95", first_ts: Some(0x0000000000000000), last_ts: Some(0x0000000000000000) },
    Expect { path: "tests/data/crashes/pppoe_padding_overlap.pcap", packets: 21, skipped: 0, format: "pcapng", bytes_read: 9944, warnings: &[], error: None, sha256: "2b9eb77bc5a3e450a724b162c67bc2ca7629a7721623a23b1abbe34c48cb7a91", first_ts: Some(0x41d6b31fd99cc00d), last_ts: Some(0x41d6b31fd9f58ca4) },
    Expect { path: "tests/data/crashes/short_ipv4_frame.pcap", packets: 1, skipped: 0, format: "pcap", bytes_read: 56, warnings: &[], error: None, sha256: "bafdf30f4535e581ef53e12e1c5711cba420c2fc215b7103b60d61ccad5f69bd", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40000000) },
    Expect { path: "tests/data/crashes/tls13_draft16_key_share.pcap", packets: 8, skipped: 0, format: "pcapng", bytes_read: 2220, warnings: &[], error: None, sha256: "4143b3012d02a4cdcc3ab774dff48894d2a272474308fc85c0bf71f86e4ef788", first_ts: Some(0x41d5fdb62b392036), last_ts: Some(0x41d5fdb62b3f1dda) },
];

/// Every capture of `../shared/corpus/public` (root: that folder), as of this commit.
const CORPUS: &[Expect] = &[
    Expect { path: "Lekensteyn-wireshark-notes/amqps.pcapng", packets: 41, skipped: 0, format: "pcapng", bytes_read: 8484, warnings: &[], error: None, sha256: "6276b8e1484f9a8430d95f59ea3f44b80e8444c97541c868d17d0469a40d4842", first_ts: Some(0x41d53d695c40d274), last_ts: Some(0x41d53d695c42c91d) },
    Expect { path: "Lekensteyn-wireshark-notes/dump.pcapng", packets: 90, skipped: 0, format: "pcapng", bytes_read: 22360, warnings: &[], error: None, sha256: "c69c605b8257c240ecda44ca33f03d9abb4b04e88ab25cf286f13e68263179ef", first_ts: Some(0x41d48d319b7f87ad), last_ts: Some(0x41d48d319bc117d2) },
    Expect { path: "Lekensteyn-wireshark-notes/ldap-ssl.pcapng", packets: 36, skipped: 0, format: "pcapng", bytes_read: 8488, warnings: &[], error: None, sha256: "eacc0e274e9c5da2ebc6f4385dcf5895f307407c167393046b6a6ad353fd49bb", first_ts: Some(0x41d533119f2a8ebd), last_ts: Some(0x41d53311a59f019f) },
    Expect { path: "Lekensteyn-wireshark-notes/mysql-ssl.pcapng", packets: 59, skipped: 0, format: "pcapng", bytes_read: 10732, warnings: &[], error: None, sha256: "45103be9723b84cd6ae10633e8d9162a7ef2f43a7eb27cd6bbe8af904252e42e", first_ts: Some(0x41d532837fa5048b), last_ts: Some(0x41d532838845e682) },
    Expect { path: "Lekensteyn-wireshark-notes/smtp2525-ssl.pcapng", packets: 37, skipped: 0, format: "pcapng", bytes_read: 8944, warnings: &[], error: None, sha256: "7150249b9fcc13108f69eab652dc4fda16e411f70bcfab2c255d2aac5bcdd966", first_ts: Some(0x41d532ff562abbd5), last_ts: Some(0x41d532ff5b0e197a) },
    Expect { path: "Lekensteyn-wireshark-notes/sslv2.pcapng", packets: 17, skipped: 0, format: "pcapng", bytes_read: 5220, warnings: &[], error: None, sha256: "e10c2a6a07c9b4aa8a0252968d73cb63fd61ca25ccd4258daa4c09cbb8434dbc", first_ts: Some(0x41d53255c0baffba), last_ts: Some(0x41d53255c0bbde56) },
    Expect { path: "Lekensteyn-wireshark-notes/tls-null.pcapng", packets: 15, skipped: 0, format: "pcapng", bytes_read: 5112, warnings: &[], error: None, sha256: "d5400ba2a8581b89a68ee928871dfe85ae1039ec5c77b565f189ea1e3efabe5f", first_ts: Some(0x41d5a9a4fd9e39b7), last_ts: Some(0x41d5a9a4fda11c14) },
    Expect { path: "Lekensteyn-wireshark-notes/xmpp-ssl.pcapng", packets: 39, skipped: 0, format: "pcapng", bytes_read: 14572, warnings: &[], error: None, sha256: "ff5d614634ec9c689b269966729a8d6d75900d03744aff036f056ff8846f0433", first_ts: Some(0x41d532e35d17592d), last_ts: Some(0x41d532e35d76d9b0) },
    Expect { path: "OISF-suricata-verify/bug-1450-04__tls_DER-incomplete-header.pcap", packets: 6, skipped: 0, format: "pcap", bytes_read: 5696, warnings: &[], error: Some("packet record claims 4325376 captured bytes, bigger than the maximum of 262144 (corrupt file?) at byte 5035"), sha256: "baac1aa999c8c1710331ab1c81055fbb53aca996a84a90cf0cf776cc7fbaf54c", first_ts: Some(0x41d54d2db201dd23), last_ts: Some(0x41d54d2db201e172) },
    Expect { path: "OISF-suricata-verify/bug-2430__backwards.pcap", packets: 28, skipped: 0, format: "pcap", bytes_read: 8034, warnings: &[], error: None, sha256: "eb4a80d2ff2440d8563b8c94fac874e0cfb6b3c151f8b402139676d59aeec3ae", first_ts: Some(0x41d69c31d0e5eec4), last_ts: Some(0x41d69c31e0050af6) },
    Expect { path: "OISF-suricata-verify/bug-7264-tcp-3whs-ack-data-tls-01__input.pcap", packets: 28, skipped: 0, format: "pcap", bytes_read: 8141, warnings: &[], error: None, sha256: "cd8867ef8e1769be1f2a1eec55e6ef2562b3094c174a489a8ee2ec30bd07a532", first_ts: Some(0x41d6e9f7c3c92064), last_ts: Some(0x41d6e9f7d22ded96) },
    Expect { path: "OISF-suricata-verify/community-id-ipv6__input.pcap", packets: 70, skipped: 0, format: "pcap", bytes_read: 41870, warnings: &[], error: None, sha256: "f04f1b6cb841f60d9a1ec01ebe31488fd5d160b00450dbddbc9623af3d376e8d", first_ts: Some(0x41d9399dfadfce42), last_ts: Some(0x41d9399dfaecce07) },
    Expect { path: "OISF-suricata-verify/ldap-starttls__input.pcap", packets: 36, skipped: 0, format: "pcap", bytes_read: 7401, warnings: &[], error: None, sha256: "82db27d9ea7a50a3dae58efad0e9bdd7831892a9b282496b94fd3390a799b0fe", first_ts: Some(0x41d533119f2a8ebd), last_ts: Some(0x41d53311a59f019f) },
    Expect { path: "OISF-suricata-verify/pgsql-upgrade-tls__input.pcap", packets: 22, skipped: 0, format: "pcap", bytes_read: 4494, warnings: &[], error: None, sha256: "083548390f3951f6e7888674b6b5dfa65b4a946acbd8bd10ff8e09c06e132301", first_ts: Some(0x41d63e2422db323c), last_ts: Some(0x41d63e2422dc14a1) },
    Expect { path: "OISF-suricata-verify/smtp-startssl__input.pcap", packets: 38, skipped: 0, format: "pcap", bytes_read: 7686, warnings: &[], error: None, sha256: "e5bded7e6fab5f63ded00ad55a146347cdbe99415d22de993be91f3bb7f597c5", first_ts: Some(0x41d86357556cfcce), last_ts: Some(0x41d8635755739492) },
    Expect { path: "OISF-suricata-verify/sslv2-tls-upgrade-01__ssl-v2-s1.pcap", packets: 36, skipped: 0, format: "pcap", bytes_read: 20485, warnings: &[], error: None, sha256: "22d4caf009ac6de2cad146dad118131ce0e2c33fc88484e5dd57a555f3b1fa91", first_ts: Some(0x41d046ee071be697), last_ts: Some(0x41d046ee085f861a) },
    Expect { path: "OISF-suricata-verify/tls-cert-issuer__tls.pcap", packets: 110, skipped: 0, format: "pcap", bytes_read: 160944, warnings: &[], error: None, sha256: "be6e6153ed7b9fa91611c240b4a67d1a7eee1602f708f7f4347cc930d1055cb7", first_ts: Some(0x41d53e7f059a8213), last_ts: Some(0x41d53e7f07a81d86) },
    Expect { path: "OISF-suricata-verify/tls-cert-noissuer__tls.pcap", packets: 21, skipped: 0, format: "pcap", bytes_read: 3320, warnings: &[], error: None, sha256: "cc1598e358d0a5a8ddb7f1321a7fe24878da9779ac5bd80d822e23555953d6ba", first_ts: Some(0x41d8b122d21e403e), last_ts: Some(0x41d8b122d25d2b52) },
    Expect { path: "OISF-suricata-verify/tls-certs-alert__input.pcap", packets: 32, skipped: 0, format: "pcap", bytes_read: 10134, warnings: &[], error: None, sha256: "9035c30fcfad09ba2464576f02fba75716c8c342ce3e5d11d6864e4f7b7eec16", first_ts: Some(0x41d736f269af4bb6), last_ts: Some(0x41d736f269d06328) },
    Expect { path: "OISF-suricata-verify/tls-client-hello-frag-01__dump_mtu300.pcap", packets: 62, skipped: 0, format: "pcap", bytes_read: 26545, warnings: &[], error: None, sha256: "99ec8ce25602e2dc606dbd09aeb6038ca1c92ece608e1568648cbaf4f7195d19", first_ts: Some(0x41d8baf31e4a465f), last_ts: Some(0x41d8baf31e4df028) },
    Expect { path: "OISF-suricata-verify/tls-duplicate-hello__input.pcap", packets: 15, skipped: 0, format: "pcap", bytes_read: 2832, warnings: &[], error: None, sha256: "5046850db25a0f349369fd9785102976429f627558e9586d9becb3d2a9a48283", first_ts: Some(0x41d9b5c57bf630a9), last_ts: Some(0x41d9b5c57e475897) },
    Expect { path: "OISF-suricata-verify/tls-extra-alert__input.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 1525, warnings: &[], error: None, sha256: "1675f5326d66163f73671294c69669b3e0f861d6f5a260f8310b9d6506674f2c", first_ts: Some(0x41d9b7ced6f740d5), last_ts: Some(0x41d9b7cf3af4c854) },
    Expect { path: "OISF-suricata-verify/tls-store-02__tls-client-auth.pcap", packets: 22, skipped: 0, format: "pcap", bytes_read: 9872, warnings: &[], error: None, sha256: "284084d677d24d6439b2b42104a30d3d38d702d0ea18ecb30eb08a8e7f1fd4c8", first_ts: Some(0x41d6b543af89b2f2), last_ts: Some(0x41d6b543af919ccb) },
    Expect { path: "OISF-suricata-verify/tls13-draft22__tls13_draft22.pcap", packets: 19, skipped: 0, format: "pcap", bytes_read: 3108, warnings: &[], error: None, sha256: "886f2d3437f8af6afc4a210db0162b7cc85d0c9a3993de98fa9a12d12db1fc9b", first_ts: Some(0x41d6868d75e6de7f), last_ts: Some(0x41d6868d75eb3498) },
    Expect { path: "OISF-suricata-verify/tls13-draft28__tls13_draft28.pcap", packets: 30, skipped: 0, format: "pcap", bytes_read: 8321, warnings: &[], error: None, sha256: "dfa91b4817bec8f52753b62a0b5d217a35a654bb4adf7ec12740ebf338310db0", first_ts: Some(0x41d6d8be6a5cf47b), last_ts: Some(0x41d6d8be6a633b1d) },
    Expect { path: "ntop-nDPI/ftp-start-tls.pcap", packets: 51, skipped: 0, format: "pcap", bytes_read: 8350, warnings: &[], error: None, sha256: "4f1b38dbae016407897e6076d810550f3004f96edb311f2c58601a76d450f821", first_ts: Some(0x41d49c32ab45054b), last_ts: Some(0x41d49c32ab5a60f6) },
    Expect { path: "ntop-nDPI/long_tls_certificate.pcap", packets: 47, skipped: 0, format: "pcap", bytes_read: 15588, warnings: &[], error: None, sha256: "1e9b930bf9db0fdc3974d1c4afadaf5cd4b673ccbd7f682b4c7eb4df4bf4b9f0", first_ts: Some(0x41d7fcbb85534170), last_ts: Some(0x41d7fcbb85ca63f5) },
    Expect { path: "ntop-nDPI/smtps.pcapng", packets: 4, skipped: 0, format: "pcapng", bytes_read: 1184, warnings: &[], error: None, sha256: "6c1971fafe6c69542749c709aa9722767b4b2356ce847d7bb7e3a3e620e9826a", first_ts: Some(0x41d81080623e39d1), last_ts: Some(0x41d81080625c24fa) },
    Expect { path: "ntop-nDPI/ssl-cert-name-mismatch.pcap", packets: 21, skipped: 0, format: "pcap", bytes_read: 5772, warnings: &[], error: None, sha256: "4d651f22a9220ce75f480f53e1c6ab4993328364c08367d10e73024ff95462c2", first_ts: Some(0x41d8264397823ab8), last_ts: Some(0x41d8264397b04c01) },
    Expect { path: "ntop-nDPI/tls_2_reasms.pcapng", packets: 14, skipped: 0, format: "pcapng", bytes_read: 7488, warnings: &[], error: None, sha256: "b1e088f45860f54089de3de1b10a511ca6075f7e76ae9369902549e2c193b906", first_ts: Some(0x41d86c7da7914c87), last_ts: Some(0x41d86c7da7ce3140) },
    Expect { path: "ntop-nDPI/tls_alert.pcap", packets: 18, skipped: 0, format: "pcapng", bytes_read: 2236, warnings: &[], error: None, sha256: "e5d38dd9fd3bce40fd3e63e6ccb54d29428b3afa40b2b50cc1de51b64046afbc", first_ts: Some(0x41d84350da0d0460), last_ts: Some(0x41d87a4281c16872) },
    Expect { path: "ntop-nDPI/tls_client_certificate_with_missing_server_one.pcapng", packets: 17, skipped: 0, format: "pcapng", bytes_read: 6328, warnings: &[], error: None, sha256: "7730c4b14f93fed0e4d8ddcf0d3f6bab81491de94f6677c9f8db50f558c39b00", first_ts: Some(0x41d8c82fdd4b7cb6), last_ts: Some(0x41d8c82fdd66a665) },
    Expect { path: "ntop-nDPI/tls_ech.pcapng", packets: 10, skipped: 0, format: "pcapng", bytes_read: 4948, warnings: &[], error: None, sha256: "1cff3b03060614e06c0ccc7212b61dc427686da3c7a55573201d3b0a4cca7dcf", first_ts: Some(0x41d927f06d2b82d0), last_ts: Some(0x41d927f06d2fcccb) },
    Expect { path: "ntop-nDPI/tls_invalid_reads.pcap", packets: 12, skipped: 0, format: "pcapng", bytes_read: 3096, warnings: &[], error: None, sha256: "c66f5374e6c0959e88bd14a83e05f3f53aec25e49d0dbed530aec1ef644b8e76", first_ts: Some(0x41d2a9742ef7962d), last_ts: Some(0x41d7020725f12d88) },
    Expect { path: "ntop-nDPI/tls_malicious_sha1.pcapng", packets: 22, skipped: 0, format: "pcapng", bytes_read: 8324, warnings: &[], error: None, sha256: "41cb9db594dfccf5de139da5fb7543a30d2530bb8e377c38832b6181453fbc3e", first_ts: Some(0x41d95d7c55175a4a), last_ts: Some(0x41d95d7c551efa7f) },
    Expect { path: "ntop-nDPI/tls_multiple_synack_different_seq.pcapng", packets: 10, skipped: 0, format: "pcapng", bytes_read: 6984, warnings: &[], error: None, sha256: "2c3c9049240919945e8f62376181db05a35b9fefd8b529ab80e8e06e5f7bb6df", first_ts: Some(0x41d86c7ee8558d93), last_ts: Some(0x41d86c7eefad9e27) },
    Expect { path: "ntop-nDPI/tls_port_80.pcapng", packets: 13, skipped: 0, format: "pcapng", bytes_read: 2992, warnings: &[], error: None, sha256: "6063fd0dd5327646947044bbbf0a1f1393e0c7df57e0fd8cc6af06f73b75ecb8", first_ts: Some(0x41d81f054ad0822b), last_ts: Some(0x41d81f054e7a2674) },
    Expect { path: "zeek-zeek/CVE-2015-3194.pcap", packets: 15, skipped: 0, format: "pcap", bytes_read: 3289, warnings: &[], error: None, sha256: "c1ab2e4a9359be0aa6579f3903a39bd8f0c33bb84e4e53aceee48d979de7d1c7", first_ts: Some(0x41d59882799ae3a8), last_ts: Some(0x41d5988279e67b07) },
    Expect { path: "zeek-zeek/cert-no-cn.pcap", packets: 14, skipped: 0, format: "pcap", bytes_read: 3091, warnings: &[], error: None, sha256: "81fc0374ee0d0d99e8bc23bc0d61a8f2f143c38ee9bbbe53d72af6d9605e348d", first_ts: Some(0x41d53d94a9c368d7), last_ts: Some(0x41d53d94aa091a00) },
    Expect { path: "zeek-zeek/certificate-request-failed.pcap", packets: 12, skipped: 0, format: "pcap", bytes_read: 5355, warnings: &[], error: None, sha256: "5d4e4a832a423f420425ea772a3e5e5c09a6610238c2a3cfb3ff0141ad894aca", first_ts: Some(0x41d8ff8e5a63113c), last_ts: Some(0x41d8ff8e5a647a46) },
    Expect { path: "zeek-zeek/chrome-1250-tls-x25519-kyber.pcap", packets: 15, skipped: 0, format: "pcap", bytes_read: 11949, warnings: &[], error: None, sha256: "3c730a6271b0f7e27ae0461ca8a24c5e85c92f8bdd935054000a26ee6c526c5c", first_ts: Some(0x41d9933422d94bc7), last_ts: Some(0x41d9933422ddf866) },
    Expect { path: "zeek-zeek/client-certificate.pcap", packets: 31, skipped: 0, format: "pcap", bytes_read: 16382, warnings: &[], error: None, sha256: "48370d83b9a8e4799b400fea7494866329c07c10f768b9671466fc26ca762493", first_ts: Some(0x41d8ff8a6a26d4e1), last_ts: Some(0x41d8ff8a6b6ff70e) },
    Expect { path: "zeek-zeek/dtls13-wolfssl.pcap", packets: 15, skipped: 0, format: "pcap", bytes_read: 3752, warnings: &[], error: None, sha256: "b6b075eaf174ef73279a08242c063b4a8c24a72b1503302e2ae05222d68b66e1", first_ts: Some(0x41d91489d29ee39f), last_ts: Some(0x41d91489d4ab05c0) },
    Expect { path: "zeek-zeek/dtls1_2.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 3675, warnings: &[], error: None, sha256: "87fb5ee9f362066fd4fbe7da5febd54b4fd02c01b745b2e6cb63e1be495cf881", first_ts: Some(0x41d688171f3ee13f), last_ts: Some(0x41d688171f75a761) },
    Expect { path: "zeek-zeek/ecdsa-cert.pcap", packets: 15, skipped: 0, format: "pcap", bytes_read: 4238, warnings: &[], error: None, sha256: "6580687a313ac8c93e318f1eea8b84fa24ad0ffa18ad45ef63ab5a32570ecf5d", first_ts: Some(0x41d51d350d1b7436), last_ts: Some(0x41d51d350dc2acc5) },
    Expect { path: "zeek-zeek/globus-url-copy.pcap", packets: 61, skipped: 0, format: "pcap", bytes_read: 21556, warnings: &[], error: None, sha256: "857cfb9474da13707669ebd4034f5421a3890f9a6d6ff1250e2ea33e5809fa7e", first_ts: Some(0x41d416db44119846), last_ts: Some(0x41d416db44247a2d) },
    Expect { path: "zeek-zeek/heartbleed-encrypted-short.pcap", packets: 18, skipped: 0, format: "pcap", bytes_read: 4294, warnings: &[], error: None, sha256: "1eaa10c675533dfceefb62ede4ee78fc79a84a59d5529921c6b7bd2f272df24a", first_ts: Some(0x41d4d896f332d917), last_ts: Some(0x41d4d896f34dfba0) },
    Expect { path: "zeek-zeek/hrr.pcap", packets: 19, skipped: 0, format: "pcap", bytes_read: 4288, warnings: &[], error: None, sha256: "eb5fbbe57f5e107871bb0a095ea934d8ca24c97f56ab24d713098f8f607b34db", first_ts: Some(0x41d731c8c6801651), last_ts: Some(0x41d731c8c6f6f7f5) },
    Expect { path: "zeek-zeek/imap-starttls.pcap", packets: 32, skipped: 0, format: "pcap", bytes_read: 8511, warnings: &[], error: None, sha256: "26dd1ba874dd6634cb1b3cfc14b629bed8d335113d2aff754eefc0165bfb0098", first_ts: Some(0x41d56bf32df400da), last_ts: Some(0x41d56bf32eb50842) },
    Expect { path: "zeek-zeek/irc-starttls.pcap", packets: 20, skipped: 0, format: "pcap", bytes_read: 4512, warnings: &[], error: None, sha256: "3ade45ffa84932df9b51f57a27fb508bc3452aaf61176899955a912f3c501c95", first_ts: Some(0x41d56e176454d003), last_ts: Some(0x41d56e17658fe4da) },
    Expect { path: "zeek-zeek/ldap-starttls.pcap", packets: 28, skipped: 0, format: "pcap", bytes_read: 6009, warnings: &[], error: None, sha256: "fa6fb9c395d4aa367f473347cc8dd4654c57fc2ff9da38e780c7217dd4b62555", first_ts: Some(0x41d9a5ed9e0a20a3), last_ts: Some(0x41d9a5ed9e0b35e3) },
    Expect { path: "zeek-zeek/missing-intermediate.pcap", packets: 50, skipped: 0, format: "pcap", bytes_read: 13449, warnings: &[], error: None, sha256: "440355de4ca81a7c9883cdcf55d000d4c78a7d7e6ddce9989d99bc1897abf364", first_ts: Some(0x41d51d93d5ce2104), last_ts: Some(0x41d51d93d7d8bb8c) },
    Expect { path: "zeek-zeek/ml-dsa-44-cert.pcap", packets: 5, skipped: 0, format: "pcap", bytes_read: 4479, warnings: &[], error: None, sha256: "08ce8d8d67bfb477365a9c9a389c254992d6cf35fee776b1cc033ef5252d77b8", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x41d954fc40000000) },
    Expect { path: "zeek-zeek/openjdk-25.0.2-zeek.org.pcap", packets: 6, skipped: 0, format: "pcap", bytes_read: 3889, warnings: &[], error: None, sha256: "a762c05694250eef24053cdb30af9044af8c3a00f9e92c6be4462ccb47de25e2", first_ts: Some(0x41da77d46e3572f7), last_ts: Some(0x41da77d46e3a7db3) },
    Expect { path: "zeek-zeek/pop3-starttls.pcap", packets: 33, skipped: 0, format: "pcap", bytes_read: 5841, warnings: &[], error: None, sha256: "a5b8ade239719bfc072fad1afeebf43634453bb714e7f9912464de0a7c7585a0", first_ts: Some(0x41d4dd3cfc1b216c), last_ts: Some(0x41d4dd3cfcba6e3b) },
    Expect { path: "zeek-zeek/pppoe-over-qinq.pcap", packets: 86, skipped: 0, format: "pcap", bytes_read: 42264, warnings: &[], error: None, sha256: "2994d248f5a097a04adafebc15246cb4a00c46db86046795a8ad0e4107327f37", first_ts: Some(0x41d6b31fd99cc00e), last_ts: Some(0x41d6b3201f2767b2) },
    Expect { path: "zeek-zeek/psql-aws-ssl-require-15432.pcap", packets: 30, skipped: 0, format: "pcap", bytes_read: 7804, warnings: &[], error: None, sha256: "35ce4d5a8eccaf7449b4db2152f0267b57c09c3ea860c54f5851f79035e0d1c3", first_ts: Some(0x41d8e4875b96951c), last_ts: Some(0x41d8e4875bdb3b97) },
    Expect { path: "zeek-zeek/signed_certificate_timestamp_tls1_0.pcap", packets: 19, skipped: 0, format: "pcap", bytes_read: 7021, warnings: &[], error: None, sha256: "1e3e768b9be06cdf7a4665af5957a1925ffdecca66faac8eeb310a9642f35d84", first_ts: Some(0x41d687776b19206d), last_ts: Some(0x41d687776b5904f7) },
    Expect { path: "zeek-zeek/smtp-starttls.pcap", packets: 37, skipped: 0, format: "pcap", bytes_read: 8693, warnings: &[], error: None, sha256: "11380002c7d9088565f71616520604d11ecfda853501543fbbc1db8847076ee5", first_ts: Some(0x41d4dd37f33395af), last_ts: Some(0x41d4dd37f51dfadf) },
    Expect { path: "zeek-zeek/socks-with-ssl.pcap", packets: 25, skipped: 0, format: "pcap", bytes_read: 5695, warnings: &[], error: None, sha256: "e137c701512b49383ee1f1eb4344b0cdf4966b185fc258dd6d6dd8623f38ba1a", first_ts: Some(0x41d3f8205b2cff50), last_ts: Some(0x41d3f8205c657747) },
    Expect { path: "zeek-zeek/ssl-v2.pcap", packets: 25, skipped: 0, format: "pcap", bytes_read: 3908, warnings: &[], error: None, sha256: "6ed29b0b2049a4c4f6076b8a839b89bf80f814e5ba5dd5b122573d67208a252f", first_ts: Some(0x41d4d1c36e11933a), last_ts: Some(0x41d4d1c36f008406) },
    Expect { path: "zeek-zeek/ssl.v3.pcap", packets: 252, skipped: 0, format: "pcap", bytes_read: 190576, warnings: &[], error: None, sha256: "3936d5980721fd9381da407c3b9d7dc285c638d054225217b76d0b8023eb4641", first_ts: Some(0x41d171eed057787d), last_ts: Some(0x41d171eed6f877a3) },
    Expect { path: "zeek-zeek/telesec.pcap", packets: 22, skipped: 0, format: "pcap", bytes_read: 7636, warnings: &[], error: None, sha256: "fc061d0a16fdbc86c5e05f683a2e73231f76126ebd4c74853c7b1564fd9d5604", first_ts: Some(0x41d5c7ee8b72f87b), last_ts: Some(0x41d5c7ee8bdd9110) },
    Expect { path: "zeek-zeek/tls-1.2-handshake-failure.pcap", packets: 11, skipped: 0, format: "pcap", bytes_read: 1131, warnings: &[], error: None, sha256: "a70b121beecc9da44829d3599a4795ac8cd7032acfed90ba09199dfeacabf0e6", first_ts: Some(0x41d4c586b4b1b85f), last_ts: Some(0x41d4c586b4b2fe65) },
    Expect { path: "zeek-zeek/tls-12-amazon-rds.pcap", packets: 25, skipped: 0, format: "pcap", bytes_read: 6079, warnings: &[], error: None, sha256: "d348579f2ee226bb67ed11d119e8e5b1e794d58e5cbcda7639b4acb067384383", first_ts: Some(0x41d8e52bcd9dc9a7), last_ts: Some(0x41d8e52bce3936b1) },
    Expect { path: "zeek-zeek/tls-13draft19-early-data.pcap", packets: 50, skipped: 0, format: "pcap", bytes_read: 15980, warnings: &[], error: None, sha256: "16e38d44d5a1caed121e96cc90a2fe8b1628185ba72a84d3d4339fbdec145d5e", first_ts: Some(0x41d63944a4fa5779), last_ts: Some(0x41d63944a689d302) },
    Expect { path: "zeek-zeek/tls-conn-with-extensions.pcap", packets: 58, skipped: 0, format: "pcap", bytes_read: 24111, warnings: &[], error: None, sha256: "96a3de5d2e17bc7e923871ff7fc7f879616f03d285419502177799cc7b97211a", first_ts: Some(0x41d3e6acb6132cba), last_ts: Some(0x41d3e6acb70e77c4) },
    Expect { path: "zeek-zeek/tls-early-alert.pcap", packets: 17, skipped: 0, format: "pcap", bytes_read: 8209, warnings: &[], error: None, sha256: "8582fc918a6d60dd5c3c82029c91fdbc1e5f7a9463ba1a11c917ff4803851500", first_ts: Some(0x41d58a51e3621d58), last_ts: Some(0x41d58a51e370f42c) },
    Expect { path: "zeek-zeek/tls-expired-cert.pcap", packets: 49, skipped: 0, format: "pcap", bytes_read: 14054, warnings: &[], error: None, sha256: "49215eafcf223fb07a14c165ca29f6fed5840697c41886dc7ad531790b2fa39a", first_ts: Some(0x41d4c88840b2a99b), last_ts: Some(0x41d4c88845b8ef6b) },
    Expect { path: "zeek-zeek/tls-fragmented-handshake.pcap", packets: 416, skipped: 0, format: "pcap", bytes_read: 374521, warnings: &[], error: None, sha256: "e822edf300b08bb5cc8b6a8d7b1ec68625050e28cf72a1c7a033cf2ccbd15a14", first_ts: Some(0x41d540349884199c), last_ts: Some(0x41d5403498925b79) },
    Expect { path: "zeek-zeek/tls1.2.pcap", packets: 22, skipped: 0, format: "pcap", bytes_read: 8601, warnings: &[], error: None, sha256: "27f5276e8703524a2c3e804e3d2e217c05af06886828d4e5fed9a7dab9ec7dfb", first_ts: Some(0x41d439cc7420c9c1), last_ts: Some(0x41d439cc74f3a904) },
    Expect { path: "zeek-zeek/tls12-decryption.pcap", packets: 16, skipped: 0, format: "pcap", bytes_read: 6106, warnings: &[], error: None, sha256: "7adc6c43f1d98a1c49bcd4f4a704c072eb6a12718e916b0aa849f2b9dcc2fcdb", first_ts: Some(0x41d826c1cb1b8733), last_ts: Some(0x41d826c1cb55dbcb) },
    Expect { path: "zeek-zeek/tls13-ech.pcap", packets: 69, skipped: 0, format: "pcap", bytes_read: 16446, warnings: &[], error: None, sha256: "6d0cf85b5021591b02ab65f1e705eb910dca415db89ce0dfbe84c7399abf9b93", first_ts: Some(0x41d94b4a82109807), last_ts: Some(0x41d94b4a83d031ca) },
    Expect { path: "zeek-zeek/tls13_psk_succesfull.pcap", packets: 20, skipped: 0, format: "pcap", bytes_read: 2760, warnings: &[], error: None, sha256: "49cd7158f7ccb7584c5c743e76d8d8ad5bbaadd8111457edb540e0dfa33ff180", first_ts: Some(0x41d72e2f2e1658fb), last_ts: Some(0x41d72e2f2f41b695) },
    Expect { path: "zeek-zeek/tls13_wolfssl.pcap", packets: 21, skipped: 0, format: "pcap", bytes_read: 3399, warnings: &[], error: None, sha256: "5e927117cc2947711b237b970381c4303ee53c276efcddfd9d7035e06883df28", first_ts: Some(0x41d7f34a1a756a98), last_ts: Some(0x41d7f34a1cf85eb3) },
    Expect { path: "zeek-zeek/tls13draft16-ff52.a01-aborted.pcap", packets: 20, skipped: 0, format: "pcap", bytes_read: 2440, warnings: &[], error: None, sha256: "302c6a355a1be610924a362687b4c08116caa75637b6a7248d04bd6822696dce", first_ts: Some(0x41d5fdaecdf53d1d), last_ts: Some(0x41d5fdaecdfe6cd7) },
    Expect { path: "zeek-zeek/tls13draft16-ff52.a01.pcap", packets: 39, skipped: 0, format: "pcap", bytes_read: 6784, warnings: &[], error: None, sha256: "1eb6c8eec2c85d2f63d3b7cac4e5da1a9faa245be421661b301b5c7b596f5e51", first_ts: Some(0x41d5fdb62b392036), last_ts: Some(0x41d5fdb62d2b6aa9) },
    Expect { path: "zeek-zeek/tls1_1.pcap", packets: 23, skipped: 0, format: "pcap", bytes_read: 6980, warnings: &[], error: None, sha256: "4b2c3b680e0a191f172c470eaf9d06c5eb508e5114b38eef63405e1796453691", first_ts: Some(0x41d688191f99b617), last_ts: Some(0x41d688191fdad5bf) },
    Expect { path: "zeek-zeek/xmpp-dialback-starttls.pcap", packets: 37, skipped: 0, format: "pcap", bytes_read: 14673, warnings: &[], error: None, sha256: "8acd3dd9eafbe2a07d16747553d763fdf84946a7cd9e4fcd8fbc912231fadf4b", first_ts: Some(0x41d56ba736c2ab54), last_ts: Some(0x41d56ba739355be2) },
    Expect { path: "zeek-zeek/xmpp-starttls.pcap", packets: 34, skipped: 0, format: "pcap", bytes_read: 8174, warnings: &[], error: None, sha256: "60cacff1306e06033c5e1939e1a06740a4a1dbe13386c122deda0bdcb9c16902", first_ts: Some(0x41d56a11dd6edbe4), last_ts: Some(0x41d56a11de07203e) },
];

#[test]
fn repository_captures_match_python() {
    let root = repo_root();
    for e in REPO {
        check(e, &observe(CaptureReader::open(&root.join(e.path))));
    }
}

#[test]
fn public_corpus_matches_python() {
    let root = repo_root().join("../shared/corpus/public");
    if !root.is_dir() {
        eprintln!("skipped: {} is not here", root.display());
        return;
    }
    for e in CORPUS {
        check(e, &observe(CaptureReader::open(&root.join(e.path))));
    }
}

/// A stream handing out one byte per read gives the same packets, warnings and errors as the
/// file (bytes_read too: the reader fills whole chunks whatever the stream's pace).
#[test]
fn one_byte_reads_give_the_same_answers() {
    let root = repo_root();
    let corpus = root.join("../shared/corpus/public");
    let mut all: Vec<(std::path::PathBuf, &Expect)> =
        REPO.iter().map(|e| (root.join(e.path), e)).collect();
    if corpus.is_dir() {
        all.extend(CORPUS.iter().take(12).map(|e| (corpus.join(e.path), e)));
        let broken = CORPUS.iter().find(|e| e.error.is_some()).unwrap();
        all.push((corpus.join(broken.path), broken));
    }
    for (path, e) in all {
        let bytes = std::fs::read(&path).unwrap();
        check(e, &observe(one_byte(&bytes)));
    }
}

/// A pipe that stays open: its first read hands over what has come; a second read would wait for
/// the writer (here it fails the test).
struct OpenPipe(Vec<Vec<u8>>);

impl std::io::Read for OpenPipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        assert!(!self.0.is_empty(), "read again: the reader waited for more than had come");
        let piece = &mut self.0[0];
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.0.remove(0);
        }
        Ok(n)
    }
}

#[test]
fn a_stream_hands_out_the_packets_that_have_come_without_waiting_for_a_chunk() {
    let bytes = std::fs::read(repo_root().join("pcaps/cisco_lab_mix.pcapng")).unwrap();
    let (head, rest) = bytes.split_at(24);
    // the header is read whole (two reads here), then the packets from one read of what came
    let pipe = OpenPipe(vec![head.to_vec(), rest.to_vec()]);
    let mut r = CaptureReader::from_stream(Box::new(pipe), "<stdin>").unwrap();
    let mut n = 0;
    while n < 139 {
        assert!(r.next_packet().unwrap().is_some(), "packet {} not handed out", n + 1);
        n += 1;
    }
    assert_eq!(r.format, "pcapng");
}
