//! Splitting PEM files into their blocks and picking the right ones.
//!
//! Key and certificate files come from many tools: a combined file may hold the certificate first,
//! a chain may follow the leaf, `openssl pkcs12` writes "Bag Attributes" text between blocks. So the
//! file is split into blocks and the private key is chosen by its label, never by position.

use std::path::Path;

use super::CredentialError;

/// The private-key block of a PEM file, re-encoded alone so a PEM key parser sees only it.
pub(crate) struct KeyBlock {
    /// The block as PEM text (`PRIVATE KEY` for PKCS#8, `RSA PRIVATE KEY` for PKCS#1).
    pub pem: String,
}

/// Every PEM block of `bytes`; an error when there is none.
pub(crate) fn split(bytes: &[u8], path: &Path) -> Result<Vec<pem::Pem>, CredentialError> {
    let blocks = pem::parse_many(bytes).map_err(|_| CredentialError::NotPem {
        path: path.to_owned(),
    })?;
    if blocks.is_empty() {
        return Err(CredentialError::NotPem {
            path: path.to_owned(),
        });
    }
    Ok(blocks)
}

/// The one unencrypted RSA private key among `blocks`.
pub(crate) fn private_key(blocks: &[pem::Pem], path: &Path) -> Result<KeyBlock, CredentialError> {
    let mut found: Option<&pem::Pem> = None;
    for block in blocks {
        match block.tag() {
            "PRIVATE KEY" | "RSA PRIVATE KEY" => {
                let encrypted = block
                    .headers()
                    .get("Proc-Type")
                    .is_some_and(|v| v.contains("ENCRYPTED"));
                if encrypted {
                    return Err(CredentialError::EncryptedKey {
                        path: path.to_owned(),
                    });
                }
                if found.replace(block).is_some() {
                    return Err(CredentialError::ManyKeys {
                        path: path.to_owned(),
                    });
                }
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(CredentialError::EncryptedKey {
                    path: path.to_owned(),
                });
            }
            "EC PRIVATE KEY" => {
                return Err(CredentialError::UnsupportedKey {
                    path: path.to_owned(),
                    kind: "EC",
                });
            }
            _ => {}
        }
    }
    let block = found.ok_or_else(|| CredentialError::NoPrivateKey {
        path: path.to_owned(),
    })?;
    let alone = pem::Pem::new(block.tag(), block.contents());
    Ok(KeyBlock {
        pem: pem::encode(&alone),
    })
}

/// The DER of every `CERTIFICATE` block, in file order.
pub(crate) fn certificates(blocks: &[pem::Pem]) -> Vec<Vec<u8>> {
    blocks
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(tag: &str, body: &[u8]) -> String {
        pem::encode(&pem::Pem::new(tag, body.to_vec()))
    }

    #[test]
    fn the_key_is_found_after_a_certificate_and_bag_attributes() {
        let text = format!(
            "Bag Attributes\n    friendlyName: x\n{}subject=CN = x\n{}",
            block("CERTIFICATE", b"cert"),
            block("PRIVATE KEY", b"key")
        );
        let path = Path::new("combined.pem");
        let blocks = split(text.as_bytes(), path).unwrap();
        assert_eq!(certificates(&blocks), vec![b"cert".to_vec()]);
        let key = private_key(&blocks, path).unwrap();
        assert!(key.pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!key.pem.contains("CERTIFICATE"));
    }

    #[test]
    fn encrypted_ec_missing_and_duplicate_keys_are_refused_by_name() {
        let path = Path::new("k.pem");
        let cases = [
            (block("ENCRYPTED PRIVATE KEY", b"k"), "encrypted"),
            (block("EC PRIVATE KEY", b"k"), "EC"),
            (block("CERTIFICATE", b"c"), "no PEM private key"),
            (
                format!(
                    "{}{}",
                    block("PRIVATE KEY", b"a"),
                    block("RSA PRIVATE KEY", b"b")
                ),
                "more than one",
            ),
        ];
        for (text, expected) in cases {
            let blocks = split(text.as_bytes(), path).unwrap();
            let err = private_key(&blocks, path).err().unwrap().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(err.contains("k.pem"), "{err}");
        }
    }

    #[test]
    fn text_without_pem_blocks_is_not_pem() {
        let err = split(b"just text", Path::new("x.pem")).err().unwrap();
        assert!(matches!(err, CredentialError::NotPem { .. }));
    }
}
