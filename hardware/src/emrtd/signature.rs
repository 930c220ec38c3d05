//! EF.SOD's signature (ICAO 9303 Part 10 §4.6.2, Part 12): the LDSSecurityObject is signed by a
//! document signer (DS) whose certificate travels in the SignedData, and the DS certificate is
//! signed by the issuing country's signing CA (CSCA), whose certificate a deployment configures.
//!
//! What is checked when CSCA certificates are configured: the SignerInfo's `messageDigest`
//! attribute equals the hash of the LDSSecurityObject; the SignerInfo's signature over its
//! signed attributes verifies with the DS certificate's key; the DS certificate's signature
//! verifies with one configured CSCA's key. ECDSA only (SHA-256/384/512, on NIST P-256,
//! brainpoolP256r1, brainpoolP384r1) — RSA document signers are reported as not verifiable.
//! Not checked (yet): validity dates, revocation lists, the CSCA's own self-signature, name
//! chaining beyond the key.
//!
//! [`TestPki`] builds a CSCA and a document signer for simulated cards.

use zeroize::Zeroizing;

use super::lds::HashAlgorithm;
use super::pace::PaceCurve;
use crate::tlv::{self, Tlv};

const OID_EC_PUBLIC_KEY: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_P256: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const OID_BP256R1: [u8; 9] = [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07];
const OID_BP384R1: [u8; 9] = [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B];
const OID_ECDSA_SHA256: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04];
const OID_CONTENT_TYPE: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x04];
const OID_COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];
const OID_SIGNED_DATA: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
const OID_LDS_SECURITY_OBJECT: [u8; 6] = [0x67, 0x81, 0x08, 0x01, 0x01, 0x01];

/// An EC public key: its curve and uncompressed point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The curve.
    pub curve: PaceCurve,
    /// `04 x y`.
    pub point: Vec<u8>,
}

fn curve_oid(curve: PaceCurve) -> &'static [u8] {
    match curve {
        PaceCurve::P256 => &OID_P256,
        PaceCurve::BrainpoolP256r1 => &OID_BP256R1,
        PaceCurve::BrainpoolP384r1 => &OID_BP384R1,
    }
}

fn hash_of_signature_oid(oid: &[u8]) -> Option<HashAlgorithm> {
    match oid {
        o if o == OID_ECDSA_SHA256 => Some(HashAlgorithm::Sha256),
        o if o == OID_ECDSA_SHA384 => Some(HashAlgorithm::Sha384),
        o if o == OID_ECDSA_SHA512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// The next TLV and its encoding as sent (header included).
fn next<'a>(rest: &mut &'a [u8], what: &str) -> Result<(Tlv<'a>, &'a [u8]), String> {
    let before = *rest;
    let (item, after) = tlv::parse(before).map_err(|e| format!("{what}: {}", e.0))?;
    *rest = after;
    Ok((item, &before[..before.len() - after.len()]))
}

fn first_oid(algorithm_identifier: &[u8]) -> Result<&[u8], String> {
    tlv::expect(algorithm_identifier, 0x06, "no OID").map_err(|e| format!("algorithm identifier: {}", e.0))
}

/// The signature `(r, s)` of a DER `ECDSA-Sig-Value`.
fn ecdsa_sig_value(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut rest = tlv::expect(der, 0x30, "not a SEQUENCE").map_err(|e| format!("ECDSA signature: {}", e.0))?;
    let (r, _) = next(&mut rest, "ECDSA r")?;
    let (s, _) = next(&mut rest, "ECDSA s")?;
    if r.tag != 0x02 || s.tag != 0x02 {
        return Err("the ECDSA signature is not two INTEGERs".into());
    }
    Ok((r.value.to_vec(), s.value.to_vec()))
}

/// What the verifier needs of an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The TBSCertificate as encoded (what the issuer signed).
    pub tbs: Vec<u8>,
    /// The hash of the issuer's ECDSA signature algorithm (`None`: not ECDSA).
    pub signature_hash: Option<HashAlgorithm>,
    /// The issuer's signature (`ECDSA-Sig-Value` DER).
    pub signature: Vec<u8>,
    /// The subject's common name, for reports (no personal data: it names the signer).
    pub subject: String,
    /// The subject's key, if it is an EC key on a supported curve.
    pub public_key: Option<PublicKey>,
}

/// Parses the fields of an X.509 certificate the verifier uses.
pub fn parse_certificate(der: &[u8]) -> Result<CertificateInfo, String> {
    let mut cert = tlv::expect(der, 0x30, "not a SEQUENCE").map_err(|e| format!("certificate: {}", e.0))?;
    let (tbs, tbs_raw) = next(&mut cert, "TBSCertificate")?;
    let (algorithm, _) = next(&mut cert, "signature algorithm")?;
    let (signature, _) = next(&mut cert, "signature")?;
    if signature.tag != 0x03 || signature.value.first() != Some(&0) {
        return Err("the certificate's signature is not a BIT STRING".into());
    }
    let mut fields = tbs.value;
    let (mut item, _) = next(&mut fields, "TBSCertificate")?;
    if item.tag == 0xA0 {
        item = next(&mut fields, "serial number")?.0;
    }
    let _serial = item;
    let _signature_algorithm = next(&mut fields, "TBS signature algorithm")?;
    let _issuer = next(&mut fields, "issuer")?;
    let _validity = next(&mut fields, "validity")?;
    let (subject, _) = next(&mut fields, "subject")?;
    let (spki, _) = next(&mut fields, "subject public key info")?;
    let mut subject_cn = String::new();
    for rdn in tlv::iter(subject.value).flatten() {
        for attribute in tlv::iter(rdn.value).flatten() {
            let mut parts = attribute.value;
            if let (Ok((oid, _)), Ok((value, _))) = (next(&mut parts, "attribute type"), next(&mut parts, "attribute value")) {
                if oid.value == OID_COMMON_NAME {
                    subject_cn = String::from_utf8_lossy(value.value).into_owned();
                }
            }
        }
    }
    let mut spki_fields = spki.value;
    let (key_algorithm, _) = next(&mut spki_fields, "key algorithm")?;
    let (key_bits, _) = next(&mut spki_fields, "public key")?;
    let mut algorithm_fields = key_algorithm.value;
    let (key_oid, _) = next(&mut algorithm_fields, "key algorithm OID")?;
    let public_key = if key_oid.value == OID_EC_PUBLIC_KEY {
        let curve_oid = next(&mut algorithm_fields, "curve")?.0.value;
        let curve = [PaceCurve::P256, PaceCurve::BrainpoolP256r1, PaceCurve::BrainpoolP384r1]
            .into_iter()
            .find(|c| self::curve_oid(*c) == curve_oid);
        match (curve, key_bits.value.split_first()) {
            (Some(curve), Some((0, point))) => Some(PublicKey { curve, point: point.to_vec() }),
            _ => None,
        }
    } else {
        None
    };
    Ok(CertificateInfo {
        tbs: tbs_raw.to_vec(),
        signature_hash: hash_of_signature_oid(first_oid(algorithm.value)?),
        signature: signature.value[1..].to_vec(),
        subject: subject_cn,
        public_key,
    })
}

fn verify(key: &PublicKey, hash: HashAlgorithm, message: &[u8], signature_der: &[u8]) -> Result<bool, String> {
    let (r, s) = ecdsa_sig_value(signature_der)?;
    key.curve.ecdsa_verify(&key.point, &hash.digest(message), &r, &s).map_err(|e| e.to_string())
}

/// Verifies EF.SOD's signature up to one of the configured CSCA certificates (DER). `Ok` with
/// the document signer's name; `Err` with what failed.
pub fn verify_sod(sod: &[u8], csca_certificates: &[Vec<u8>]) -> Result<String, String> {
    let e = |x: tlv::TlvError| format!("EF.SOD: {}", x.0);
    let content_info = tlv::expect(tlv::expect(sod, 0x77, "not tag 77").map_err(e)?, 0x30, "no ContentInfo").map_err(e)?;
    let mut rest = content_info;
    let _oid = next(&mut rest, "content type")?;
    let (explicit, _) = next(&mut rest, "content")?;
    let mut signed = tlv::expect(explicit.value, 0x30, "no SignedData").map_err(e)?;
    let _version = next(&mut signed, "version")?;
    let _digests = next(&mut signed, "digest algorithms")?;
    let (encap, _) = next(&mut signed, "encapsulated content")?;
    let mut encap_fields = encap.value;
    let _type = next(&mut encap_fields, "eContentType")?;
    let (econtent, _) = next(&mut encap_fields, "eContent")?;
    let lds_object = tlv::expect(econtent.value, 0x04, "eContent is not an OCTET STRING").map_err(e)?;
    let mut certificate = None;
    let mut signer_infos = None;
    while !signed.is_empty() {
        let (item, raw) = next(&mut signed, "SignedData")?;
        match item.tag {
            0xA0 => certificate = tlv::parse(item.value).ok().map(|(_, after)| &item.value[..item.value.len() - after.len()]),
            0x31 => signer_infos = Some(item.value),
            _ => {
                let _ = raw;
            }
        }
    }
    let certificate = certificate.ok_or("EF.SOD carries no document signer certificate")?;
    let signer_info = tlv::expect(signer_infos.ok_or("EF.SOD has no SignerInfo")?, 0x30, "no SignerInfo")
        .map_err(|_| "EF.SOD has no SignerInfo (it is not signed)".to_string())?;
    let mut fields = signer_info;
    let _version = next(&mut fields, "SignerInfo version")?;
    let _sid = next(&mut fields, "SignerInfo sid")?;
    let (digest_algorithm, _) = next(&mut fields, "digest algorithm")?;
    let (signed_attributes, signed_attributes_raw) = next(&mut fields, "signed attributes")?;
    if signed_attributes.tag != 0xA0 {
        return Err("the SignerInfo has no signed attributes".into());
    }
    let (signature_algorithm, _) = next(&mut fields, "signature algorithm")?;
    let (signature, _) = next(&mut fields, "signature")?;

    let digest = super::lds::hash_algorithm_of_oid(first_oid(digest_algorithm.value)?)
        .ok_or("the SignerInfo's digest algorithm is not supported")?;
    let mut message_digest = None;
    for attribute in tlv::iter(signed_attributes.value) {
        let attribute = attribute.map_err(e)?;
        let mut parts = attribute.value;
        let (oid, _) = next(&mut parts, "attribute type")?;
        let (values, _) = next(&mut parts, "attribute values")?;
        if oid.value == OID_MESSAGE_DIGEST {
            message_digest = Some(tlv::expect(values.value, 0x04, "not an OCTET STRING").map_err(e)?);
        }
    }
    if message_digest != Some(&digest.digest(lds_object)[..]) {
        return Err("the signed message digest does not match the LDSSecurityObject".into());
    }
    let signature_hash = hash_of_signature_oid(first_oid(signature_algorithm.value)?)
        .ok_or("the document signer does not use ECDSA (RSA is not verified yet)")?;
    let ds = parse_certificate(certificate)?;
    let ds_key = ds.public_key.as_ref().ok_or("the document signer's key is not an EC key on a supported curve")?;
    // The signature covers the signed attributes re-tagged as a SET (RFC 5652 §5.4).
    let mut to_verify = signed_attributes_raw.to_vec();
    to_verify[0] = 0x31;
    if !verify(ds_key, signature_hash, &to_verify, signature.value)? {
        return Err("the document signer's signature over EF.SOD does not verify".into());
    }
    let ds_hash = ds.signature_hash.ok_or("the document signer certificate is not signed with ECDSA")?;
    for csca in csca_certificates {
        let Ok(csca) = parse_certificate(csca) else { continue };
        let Some(key) = csca.public_key.as_ref() else { continue };
        if verify(key, ds_hash, &ds.tbs, &ds.signature).unwrap_or(false) {
            return Ok(ds.subject);
        }
    }
    Err(format!("the document signer certificate ({}) is not signed by any configured CSCA", ds.subject))
}

// --- Building signed SODs for simulated cards --------------------------------------------------

fn integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    let mut value = bytes[start..].to_vec();
    if value.first().is_none_or(|b| b & 0x80 != 0) {
        value.insert(0, 0);
    }
    tlv::encode(0x02, &value)
}

fn name(common_name: &str) -> Vec<u8> {
    let mut attribute = tlv::encode(0x06, &OID_COMMON_NAME);
    attribute.extend(tlv::encode(0x0C, common_name.as_bytes()));
    tlv::encode(0x30, &tlv::encode(0x31, &tlv::encode(0x30, &attribute)))
}

fn ecdsa_sha256() -> Vec<u8> {
    tlv::encode(0x30, &tlv::encode(0x06, &OID_ECDSA_SHA256))
}

/// A signing key of a simulated PKI (zeroized on drop).
pub struct SigningKey {
    curve: PaceCurve,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
    name: String,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey({}, <redacted>)", self.name)
    }
}

impl Clone for SigningKey {
    fn clone(&self) -> Self {
        SigningKey { curve: self.curve, private: self.private.clone(), public: self.public.clone(), name: self.name.clone() }
    }
}

impl SigningKey {
    fn new(name: &str, rng: &mut dyn rand::RngCore) -> Result<SigningKey, String> {
        let curve = PaceCurve::P256;
        let private = curve.random_private_key(rng).map_err(|e| e.to_string())?;
        let public = curve.mul(None, &private).map_err(|e| e.to_string())?;
        Ok(SigningKey { curve, private, public, name: name.into() })
    }

    /// ECDSA-SHA256 signature (DER `ECDSA-Sig-Value`) over `message`.
    fn sign(&self, message: &[u8], rng: &mut dyn rand::RngCore) -> Result<Vec<u8>, String> {
        let k = self.curve.random_private_key(rng).map_err(|e| e.to_string())?;
        let (r, s) = self.curve.ecdsa_sign(&self.private, &k, &HashAlgorithm::Sha256.digest(message)).map_err(|e| e.to_string())?;
        let mut value = integer(&r);
        value.extend(integer(&s));
        Ok(tlv::encode(0x30, &value))
    }

    /// A certificate for `subject`'s key, signed by this key.
    fn certify(&self, subject: &SigningKey, serial: u64, rng: &mut dyn rand::RngCore) -> Result<Vec<u8>, String> {
        let mut key_algorithm = tlv::encode(0x06, &OID_EC_PUBLIC_KEY);
        key_algorithm.extend(tlv::encode(0x06, curve_oid(subject.curve)));
        let mut spki = tlv::encode(0x30, &key_algorithm);
        spki.extend(tlv::encode(0x03, &[&[0u8][..], &subject.public].concat()));
        let mut validity = tlv::encode(0x17, b"250101000000Z");
        validity.extend(tlv::encode(0x17, b"351231235959Z"));
        let mut tbs = tlv::encode(0xA0, &tlv::encode_unsigned(2));
        tbs.extend(tlv::encode_unsigned(serial));
        tbs.extend(ecdsa_sha256());
        tbs.extend(name(&self.name));
        tbs.extend(tlv::encode(0x30, &validity));
        tbs.extend(name(&subject.name));
        tbs.extend(tlv::encode(0x30, &spki));
        let tbs = tlv::encode(0x30, &tbs);
        let signature = self.sign(&tbs, rng)?;
        let mut cert = tbs;
        cert.extend(ecdsa_sha256());
        cert.extend(tlv::encode(0x03, &[&[0u8][..], &signature].concat()));
        Ok(tlv::encode(0x30, &cert))
    }
}

/// A simulated country signing CA and document signer (NIST P-256, ECDSA-SHA256), from a seed.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CSCA certificate (DER): what a deployment would configure.
    pub csca_certificate: Vec<u8>,
    /// The document signer certificate (DER), signed by the CSCA.
    pub document_signer_certificate: Vec<u8>,
    document_signer: SigningKey,
    seed: u64,
}

impl TestPki {
    /// A CSCA named `csca_name` and a document signer, keys drawn from a ChaCha20 seeded with
    /// `seed`.
    pub fn new(csca_name: &str, seed: u64) -> TestPki {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        // P-256 key generation and signing cannot fail with a working RNG.
        let csca = SigningKey::new(csca_name, &mut rng).expect("P-256 key");
        let ds = SigningKey::new("Document Signer (simulated)", &mut rng).expect("P-256 key");
        let csca_certificate = csca.certify(&csca, 1, &mut rng).expect("CSCA certificate");
        let document_signer_certificate = csca.certify(&ds, 2, &mut rng).expect("DS certificate");
        TestPki { csca_certificate, document_signer_certificate, document_signer: ds, seed }
    }

    /// EF.SOD over this LDSSecurityObject (DER), signed by the document signer.
    pub fn sign_sod(&self, lds_security_object: &[u8]) -> Vec<u8> {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(self.seed ^ 0x50D);
        let sha256_id = tlv::encode(0x30, &tlv::encode(0x06, &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]));
        let mut content_type = tlv::encode(0x06, &OID_CONTENT_TYPE);
        content_type.extend(tlv::encode(0x31, &tlv::encode(0x06, &OID_LDS_SECURITY_OBJECT)));
        let mut message_digest = tlv::encode(0x06, &OID_MESSAGE_DIGEST);
        message_digest.extend(tlv::encode(0x31, &tlv::encode(0x04, &HashAlgorithm::Sha256.digest(lds_security_object))));
        let mut attributes = tlv::encode(0x30, &content_type);
        attributes.extend(tlv::encode(0x30, &message_digest));
        let signature = self.document_signer.sign(&tlv::encode(0x31, &attributes), &mut rng).expect("ECDSA signature");
        let mut signer_info = tlv::encode_unsigned(1);
        // sid: subjectKeyIdentifier [0], any bytes: the verifier takes the certificate in the SOD.
        signer_info.extend(tlv::encode(0x80, &[0x01; 8]));
        signer_info.extend(&sha256_id);
        signer_info.extend(tlv::encode(0xA0, &attributes));
        signer_info.extend(ecdsa_sha256());
        signer_info.extend(tlv::encode(0x04, &signature));
        let mut encap = tlv::encode(0x06, &OID_LDS_SECURITY_OBJECT);
        encap.extend(tlv::encode(0xA0, &tlv::encode(0x04, lds_security_object)));
        let mut signed = tlv::encode_unsigned(3);
        signed.extend(tlv::encode(0x31, &sha256_id));
        signed.extend(tlv::encode(0x30, &encap));
        signed.extend(tlv::encode(0xA0, &self.document_signer_certificate));
        signed.extend(tlv::encode(0x31, &tlv::encode(0x30, &signer_info)));
        let mut content_info = tlv::encode(0x06, &OID_SIGNED_DATA);
        content_info.extend(tlv::encode(0xA0, &tlv::encode(0x30, &signed)));
        tlv::encode(0x77, &tlv::encode(0x30, &content_info))
    }
}
