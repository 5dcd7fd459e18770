//! The reader's decisions on the files operators actually produce: combined files, chains,
//! `openssl pkcs12` output, PKCS#1 and PKCS#8 keys, encrypted and non-RSA keys.

use agentmint_testkit::pki;

use super::*;

fn block(tag: &str, body: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(tag, body.to_vec()))
}

fn parse(text: &str) -> PemFile {
    PemFile::parse(text.as_bytes()).expect("PEM blocks")
}

#[test]
fn the_key_is_found_after_a_certificate_and_bag_attributes() {
    let key = pki::rsa_key();
    let text = format!(
        "Bag Attributes\n    friendlyName: x\n{}subject=CN = x\n{}",
        pki::valid_self_signed(key),
        key.serialize_pem()
    );
    let file = parse(&text);
    let certs = file.certificates().unwrap();
    assert_eq!(certs.len(), 1);
    let found = file.private_key().unwrap();
    assert!(found.pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(!found.pem().contains("CERTIFICATE"));
    assert!(found.belongs_to(&certs[0]));
}

#[test]
fn pkcs1_and_pkcs8_forms_of_one_key_have_the_same_modulus() {
    let key = pki::rsa_key();
    let pkcs8 = parse(&key.serialize_pem()).private_key().unwrap();
    let pkcs1 = parse(&pki::pkcs1_pem(key)).private_key().unwrap();
    assert!(matches!(pkcs8.kind, KeyKind::Rsa { .. }));
    assert_eq!(pkcs8.kind, pkcs1.kind);
    assert!(pkcs1.pem().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn a_certificate_of_another_key_does_not_belong() {
    let key = parse(&pki::rsa_key().serialize_pem())
        .private_key()
        .unwrap();
    let other = parse(&pki::valid_self_signed(pki::other_rsa_key()))
        .certificates()
        .unwrap();
    assert!(!key.belongs_to(&other[0]));
}

#[test]
fn unusable_keys_are_refused_by_reason() {
    let cases = [
        (block("ENCRYPTED PRIVATE KEY", b"k"), KeyError::Encrypted),
        (block("CERTIFICATE", b"c"), KeyError::NoKey),
        (block("PRIVATE KEY", b"not der"), KeyError::Malformed),
        (
            format!(
                "{}{}",
                block("PRIVATE KEY", b"a"),
                block("RSA PRIVATE KEY", b"b")
            ),
            KeyError::SeveralKeys(2),
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n".to_owned(),
            KeyError::Encrypted,
        ),
    ];
    for (text, expected) in cases {
        let err = parse(&text).private_key().err();
        assert_eq!(err, Some(expected), "{text}");
    }
}

#[test]
fn non_rsa_keys_are_named() {
    let ec_pkcs8 = rcgen_ec_pem();
    let cases = [
        (block("EC PRIVATE KEY", b"k"), "EC"),
        (ec_pkcs8, "EC"),
        (block("OPENSSH PRIVATE KEY", b"k"), "non-RSA"),
    ];
    for (text, expected) in cases {
        let key = parse(&text).private_key().unwrap();
        assert_eq!(
            key.kind,
            KeyKind::NotRsa {
                algorithm: expected
            }
        );
    }
}

/// An EC key in PKCS#8, as the test CA issues them.
fn rcgen_ec_pem() -> String {
    pki::TestCa::new().client(None).key_pem
}

#[test]
fn certificates_are_read_in_file_order_and_a_broken_one_fails_the_file() {
    let leaf = pki::valid_self_signed(pki::rsa_key());
    let ca = pki::TestCa::new();
    let chain = parse(&format!("{leaf}{}", ca.cert_pem))
        .certificates()
        .unwrap();
    assert_eq!(chain.len(), 2);
    assert!(chain[0].rsa_modulus.is_some());
    assert!(chain[1].rsa_modulus.is_none());
    assert_eq!(
        chain[0].sha256,
        <[u8; 32]>::from(Sha256::digest(&chain[0].der))
    );

    let broken = format!("{leaf}{}", block("CERTIFICATE", b"junk"));
    assert_eq!(
        parse(&broken).certificates().err(),
        Some(CertificateError::Malformed)
    );
    assert_eq!(
        parse(&pki::rsa_key().serialize_pem()).certificates().err(),
        Some(CertificateError::NoCertificate)
    );
}

#[test]
fn text_without_pem_blocks_is_not_pem_and_debug_shows_no_key() {
    assert!(PemFile::parse(b"just text").is_none());
    let file = parse(&pki::rsa_key().serialize_pem());
    let key = file.private_key().unwrap();
    let shown = format!("{file:?} {key:?}");
    assert!(!shown.contains("BEGIN"), "{shown}");
    assert!(shown.contains("RSA"), "{shown}");
}
