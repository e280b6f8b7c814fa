//! Vietnamese citizen identity numbers and phone numbers.

use core::fmt;

/// Why a text is not a valid personal identification number (số định danh cá nhân).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitizenIdError {
    /// Contains something other than the digits 0 to 9 (spaces and dots included).
    NotDigits,
    /// Has this many digits instead of 12.
    WrongLength(usize),
    /// The first three digits are not a province code between 001 and 096.
    UnknownProvince(u16),
}

impl fmt::Display for CitizenIdError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CitizenIdError::NotDigits => {
                formatter.write_str("Số định danh cá nhân chỉ gồm các chữ số.")
            }
            CitizenIdError::WrongLength(length) => write!(
                formatter,
                "Số định danh cá nhân phải gồm đúng 12 chữ số (đang có {length})."
            ),
            CitizenIdError::UnknownProvince(code) => write!(
                formatter,
                "Ba chữ số đầu của số định danh cá nhân ({code:03}) không phải mã tỉnh hợp lệ (001–096)."
            ),
        }
    }
}

impl std::error::Error for CitizenIdError {}

/// Checks a 12-digit personal identification number, the number on the chip-based
/// citizen identity card (CCCD).
///
/// Only the structure is checked: twelve ASCII digits whose first three are the code of
/// the province of birth registration, 001 to 096. Whether the number belongs to the
/// person is for the national population database, not for a plugin.
pub fn check_citizen_id(id: &str) -> Result<(), CitizenIdError> {
    if !id.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(CitizenIdError::NotDigits);
    }
    if id.len() != 12 {
        return Err(CitizenIdError::WrongLength(id.len()));
    }
    let province = id.as_bytes()[..3]
        .iter()
        .fold(0_u16, |value, digit| value * 10 + u16::from(digit - b'0'));
    if !(1..=96).contains(&province) {
        return Err(CitizenIdError::UnknownProvince(province));
    }
    Ok(())
}

/// Whether `id` is a structurally valid 12-digit citizen identity number.
pub fn is_valid_citizen_id(id: &str) -> bool {
    check_citizen_id(id).is_ok()
}

/// Whether `phone` is a Vietnamese phone number as written domestically: exactly ten
/// ASCII digits, starting with 0.
///
/// The international form (+84...) is not accepted, so that the one-stop system stores a
/// single spelling of each number and can send SMS notifications without guessing.
pub fn is_valid_phone(phone: &str) -> bool {
    phone.len() == 10 && phone.starts_with('0') && phone.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_twelve_digits_with_a_province_code() {
        assert_eq!(check_citizen_id("001203004567"), Ok(()));
        assert_eq!(check_citizen_id("096099000001"), Ok(()));
        assert!(is_valid_citizen_id("025185000123"));
    }

    #[test]
    fn rejects_malformed_ids() {
        assert_eq!(check_citizen_id(""), Err(CitizenIdError::WrongLength(0)));
        assert_eq!(
            check_citizen_id("00120300456"),
            Err(CitizenIdError::WrongLength(11))
        );
        assert_eq!(
            check_citizen_id("0012030045678"),
            Err(CitizenIdError::WrongLength(13))
        );
        assert_eq!(
            check_citizen_id("001 03004567"),
            Err(CitizenIdError::NotDigits)
        );
        assert_eq!(
            check_citizen_id("00120300456a"),
            Err(CitizenIdError::NotDigits)
        );
        assert_eq!(
            check_citizen_id("０01203004567"),
            Err(CitizenIdError::NotDigits)
        );
        assert_eq!(
            check_citizen_id("000203004567"),
            Err(CitizenIdError::UnknownProvince(0))
        );
        assert_eq!(
            check_citizen_id("097203004567"),
            Err(CitizenIdError::UnknownProvince(97))
        );
        assert!(!is_valid_citizen_id("123456789012"));
    }

    #[test]
    fn messages_say_what_is_wrong() {
        assert!(
            CitizenIdError::WrongLength(9)
                .to_string()
                .contains("(đang có 9)")
        );
        assert!(
            CitizenIdError::UnknownProvince(7)
                .to_string()
                .contains("(007)")
        );
    }

    #[test]
    fn phones_are_ten_digits_starting_with_zero() {
        assert!(is_valid_phone("0912345678"));
        assert!(is_valid_phone("0281234567"));
        assert!(!is_valid_phone("912345678"));
        assert!(!is_valid_phone("1912345678"));
        assert!(!is_valid_phone("09123456789"));
        assert!(!is_valid_phone("+84912345678"));
        assert!(!is_valid_phone("0912 34567"));
        assert!(!is_valid_phone(""));
    }
}
