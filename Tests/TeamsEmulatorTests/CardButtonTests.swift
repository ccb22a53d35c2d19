import Testing

@testable import TeamsEmulator

@Suite("Finding the buttons of an Adaptive Card")
struct CardButtonTests {
    @Test("buttons in reading order: body before actions, selectActions, table cells, inputs, ShowCards")
    func order() throws {
        let card = try #require(
            JSONValue(
                json: Array(
                    (#"{"type":"AdaptiveCard","refresh":{"action":{"type":"Action.Execute","verb":"refresh"}},"#
                        + #""selectAction":{"type":"Action.Submit","title":"Card"},"body":[{"type":"Table","#
                        + #""rows":[{"type":"TableRow","cells":[{"type":"TableCell","items":[{"type":"ActionSet","#
                        + #""actions":[{"type":"Action.Execute","verb":"cell"}]}]}]}]},{"type":"Input.Text","id":"c","#
                        + #""inlineAction":{"type":"Action.Submit","title":"Send"}},{"type":"Image","url":"x","#
                        + #""fallback":{"type":"ActionSet","actions":[{"type":"Action.Execute","verb":"fallback"}]}}],"#
                        + #""actions":[{"type":"Action.OpenUrl","title":"Docs","url":"https://e/"},"#
                        + #"{"type":"Action.ShowCard","title":"More","card":{"type":"AdaptiveCard","#
                        + #""actions":[{"type":"Action.Submit","title":"Deep","data":{"verb":"deep"}}]}}]}"#).utf8)))
        let buttons = CardButton.all(in: card)
        #expect(
            buttons.map(\.summary) == [
                #"Action.Submit titled "Card""#, #"Action.Execute verb "cell""#, #"Action.Submit titled "Send""#,
                #"Action.Submit verb "deep" titled "Deep""#,
            ])
        #expect(!buttons.contains { $0.verb == "refresh" || $0.verb == "fallback" }, "Teams runs those, no one presses")
    }

    @Test(
        "a client's data goes over the button's top-level members; data that is not an object is kept unless overridden"
    )
    func merge() {
        let button = CardButton(
            kind: .submit, verb: "v", data: .object(["verb": .string("v"), "nested": .object(["a": .int(1)])]))
        #expect(
            button.data(mergedWith: ["nested": .object(["b": .int(2)]), "x": .bool(true)])
                == .object(["verb": .string("v"), "nested": .object(["b": .int(2)]), "x": .bool(true)]))
        let text = CardButton(kind: .submit, data: .string("plain"))
        #expect(text.data(mergedWith: nil) == .string("plain"))
        #expect(text.data(mergedWith: ["a": .int(1)]) == .object(["a": .int(1)]))
        #expect(CardButton(kind: .execute).data(mergedWith: nil) == .object([:]))
    }
}
