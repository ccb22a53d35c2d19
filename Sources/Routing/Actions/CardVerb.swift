/// The verbs Herald's gateway answers itself.
///
/// A button's verb is where Adaptive Cards puts it: `verb` on an `Action.Execute`, and, by Herald's convention,
/// the string `data.verb` on an `Action.Submit` (which has no verb of its own).
public enum CardVerb {
    /// The presser stops getting this route's notifications (`data.scope: all`: every route's).
    public static let optOut = "herald.optOut"
    /// Undoes ``optOut``.
    public static let optIn = "herald.optIn"
    /// The presser acknowledges the notification; the card is replaced to say who and when.
    public static let ack = "herald.ack"
}
