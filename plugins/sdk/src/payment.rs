//! Fees and payments: recording what the applicant paid, and holding an action back
//! until everything requested is paid.
//!
//! The host keeps two totals on every dossier, `fees_requested_vnd` (the sum of every
//! [`Effect::RequestFee`]) and `fees_paid_vnd` (the sum of every
//! [`Effect::RecordPayment`]); what the applicant still owes is the difference
//! ([`owed`]). A plugin that charges fees offers a `record-payment` action, reads its
//! payload with [`read_payment`], and guards the action that issues the result (or
//! proposes it) with [`require_paid`]:
//!
//! ```ignore
//! ("review", "record-payment") => {
//!     let paid = read_payment(dossier, &command.payload_json)?;
//!     decision("review", Status::Processing).effect(paid.effect())
//! }
//! ("review", "issue") => {
//!     require_paid(dossier)?;
//!     decision("settled", Status::Settled).effect(/* the result */)
//! }
//! ```

use serde::Deserialize;

use crate::builders::refuse;
use crate::types::{Dossier, Effect, Payment, Refusal};

/// What the applicant still owes on `dossier`: the fees requested less the fees paid,
/// never below zero.
pub fn owed(dossier: &Dossier) -> u64 {
    dossier
        .fees_requested_vnd
        .saturating_sub(dossier.fees_paid_vnd)
}

/// Refuses with code `"fee-unpaid"` while part of the fees requested is unpaid: the
/// guard of an action that must wait for the fees (issuing the result, proposing it for
/// approval). The message says how much was paid of how much.
pub fn require_paid(dossier: &Dossier) -> Result<(), Refusal> {
    if dossier.fees_paid_vnd < dossier.fees_requested_vnd {
        return Err(refuse(
            "fee-unpaid",
            format!(
                "Chưa nộp đủ các khoản phải nộp: đã nộp {} / {} đồng.",
                dossier.fees_paid_vnd, dossier.fees_requested_vnd
            ),
        ));
    }
    Ok(())
}

/// The payload of `record-payment`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PaymentPayload {
    /// Defaults to everything still owed.
    amount_vnd: Option<u64>,
    /// How it was paid: true online, false at the counter. A payment must say which.
    online: Option<bool>,
    /// The receipt or transaction number.
    receipt: String,
}

/// A `record-payment` command, read and checked by [`read_payment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPayment {
    /// The payment to record, with its receipt trimmed; [`RecordedPayment::effect`]
    /// wraps it in [`Effect::RecordPayment`].
    pub payment: Payment,
    /// What the dossier owed before this payment ([`owed`]).
    pub owed_vnd: u64,
}

impl RecordedPayment {
    /// Whether this payment pays everything the dossier owed, so that an action waiting
    /// for the fees ([`require_paid`]) may follow.
    pub fn settles(&self) -> bool {
        self.payment.amount_vnd >= self.owed_vnd
    }

    /// Refuses with code `"overpayment"` a payment of more than the dossier owes.
    ///
    /// [`read_payment`] accepts such a payment (the host records it as it is); call
    /// this when the procedure must not take more than it asked for.
    pub fn refuse_overpayment(self) -> Result<Self, Refusal> {
        if self.payment.amount_vnd > self.owed_vnd {
            return Err(refuse(
                "overpayment",
                format!(
                    "Số tiền {} đồng vượt quá số còn phải nộp {} đồng.",
                    self.payment.amount_vnd, self.owed_vnd
                ),
            ));
        }
        Ok(self)
    }

    /// The effect that records the payment: `Effect::RecordPayment(payment)`.
    pub fn effect(self) -> Effect {
        Effect::RecordPayment(self.payment)
    }
}

/// Reads and checks the payload of a `record-payment` command,
/// `{"amount_vnd": 100000, "online": true, "receipt": "BL-0001"}`, against what
/// `dossier` owes.
///
/// `amount_vnd` may be left out: the payment is then of everything still owed. The
/// checks, in this order, refuse with:
///
/// - `"invalid-payload"` when the payload is not such an object (see
///   [`parse_payload`](crate::json::parse_payload));
/// - `"receipt-required"` when `receipt` is absent or blank;
/// - `"payment-method-required"` when `online` is absent: the online-payment indicator
///   counts every payment, so each must say how it was paid;
/// - `"invalid-amount"` when the amount is zero, given so or because nothing is owed.
///
/// A payment of more than is owed is accepted; see
/// [`RecordedPayment::refuse_overpayment`].
pub fn read_payment(dossier: &Dossier, payload_json: &str) -> Result<RecordedPayment, Refusal> {
    let payload: PaymentPayload = crate::json::parse_payload(payload_json)?;
    let receipt = payload.receipt.trim();
    if receipt.is_empty() {
        return Err(refuse(
            "receipt-required",
            "Phải ghi số biên lai hoặc chứng từ nộp tiền (`receipt`).",
        ));
    }
    let Some(online) = payload.online else {
        return Err(refuse(
            "payment-method-required",
            "Phải ghi rõ hình thức nộp (`online`: true nếu nộp trực tuyến, false nếu nộp tại quầy hoặc chuyển khoản).",
        ));
    };
    let owed_vnd = owed(dossier);
    let amount_vnd = payload.amount_vnd.unwrap_or(owed_vnd);
    if amount_vnd == 0 {
        return Err(refuse(
            "invalid-amount",
            "Không có khoản tiền nào cần ghi nhận.",
        ));
    }
    Ok(RecordedPayment {
        payment: Payment {
            amount_vnd,
            online,
            receipt: receipt.into(),
        },
        owed_vnd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dossier, submission};
    use crate::types::Status;

    /// A dossier in review that was asked `requested` and has paid `paid`.
    fn owing(requested: u64, paid: u64) -> Dossier {
        let mut owing = dossier(
            &submission("1.000000", "{}", vec![]),
            "review",
            Status::Processing,
        );
        owing.fees_requested_vnd = requested;
        owing.fees_paid_vnd = paid;
        owing
    }

    fn code(result: Result<RecordedPayment, Refusal>) -> String {
        result.expect_err("a refusal").code
    }

    #[test]
    fn owed_is_what_is_requested_less_what_is_paid() {
        assert_eq!(owed(&owing(100_000, 40_000)), 60_000);
        assert_eq!(owed(&owing(100_000, 100_000)), 0);
        // An overpaid dossier owes nothing rather than a negative amount.
        assert_eq!(owed(&owing(100_000, 150_000)), 0);
    }

    #[test]
    fn an_action_waits_until_everything_is_paid() {
        let refusal = require_paid(&owing(100_000, 99_999)).unwrap_err();
        assert_eq!(refusal.code, "fee-unpaid");
        assert!(
            refusal.message.contains("99999 / 100000 đồng"),
            "{}",
            refusal.message
        );
        assert_eq!(require_paid(&owing(100_000, 100_000)), Ok(()));
        assert_eq!(require_paid(&owing(0, 0)), Ok(()));
        assert_eq!(require_paid(&owing(100_000, 120_000)), Ok(()));
    }

    #[test]
    fn a_payment_without_an_amount_pays_everything_owed() {
        let paid = read_payment(
            &owing(100_000, 40_000),
            r#"{"online": true, "receipt": "  VNPAY-1 "}"#,
        )
        .unwrap();
        assert_eq!(
            paid,
            RecordedPayment {
                payment: Payment {
                    amount_vnd: 60_000,
                    online: true,
                    receipt: "VNPAY-1".into(),
                },
                owed_vnd: 60_000,
            }
        );
        assert!(paid.settles());
        assert_eq!(
            paid.effect(),
            Effect::RecordPayment(Payment {
                amount_vnd: 60_000,
                online: true,
                receipt: "VNPAY-1".into(),
            })
        );
    }

    #[test]
    fn a_part_payment_does_not_settle() {
        let paid = read_payment(
            &owing(100_000, 0),
            r#"{"amount_vnd": 40000, "online": false, "receipt": "BL-1"}"#,
        )
        .unwrap();
        assert_eq!(paid.payment.amount_vnd, 40_000);
        assert!(!paid.payment.online);
        assert!(!paid.settles());
        // Exactly what is owed settles, and is not an overpayment.
        let exact = read_payment(
            &owing(100_000, 0),
            r#"{"amount_vnd": 100000, "online": false, "receipt": "BL-1"}"#,
        )
        .unwrap();
        assert!(exact.settles());
        assert_eq!(exact.clone().refuse_overpayment(), Ok(exact));
    }

    #[test]
    fn a_payment_needs_a_receipt_then_a_method_then_an_amount() {
        let dossier = owing(100_000, 0);
        assert_eq!(code(read_payment(&dossier, "")), "receipt-required");
        // The receipt is checked first, even when the method is missing too.
        assert_eq!(
            code(read_payment(
                &dossier,
                r#"{"receipt": "  ", "amount_vnd": 1}"#
            )),
            "receipt-required"
        );
        assert_eq!(
            code(read_payment(&dossier, r#"{"receipt": "BL-1"}"#)),
            "payment-method-required"
        );
        assert_eq!(
            code(read_payment(
                &dossier,
                r#"{"receipt": "BL-1", "online": true, "amount_vnd": 0}"#
            )),
            "invalid-amount"
        );
        // Nothing owed and no amount given: nothing to record.
        assert_eq!(
            code(read_payment(
                &owing(100_000, 100_000),
                r#"{"receipt": "BL-1", "online": true}"#
            )),
            "invalid-amount"
        );
        for bad in [
            r#"{"receipt": "BL-1", "online": true, "amount_vnd": -1}"#,
            r#"{"receipt": "BL-1", "online": "yes"}"#,
            "{",
        ] {
            assert_eq!(
                code(read_payment(&dossier, bad)),
                "invalid-payload",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_overpayment_is_read_but_can_be_refused() {
        let over = read_payment(
            &owing(1_000_000, 400_000),
            r#"{"receipt": "BL-1", "online": false, "amount_vnd": 600001}"#,
        )
        .unwrap();
        assert!(over.settles());
        let refusal = over.refuse_overpayment().unwrap_err();
        assert_eq!(refusal.code, "overpayment");
        assert!(refusal.message.contains("600001"), "{}", refusal.message);
        assert!(refusal.message.contains("600000"), "{}", refusal.message);
    }
}
