import CanonicalJSON
import Foundation
import NotariumTestKit
import Testing

@Suite("CanonicalJSON: RFC 8785")
struct CanonicalJSONTests {
    private func canonical(_ text: String) throws -> String {
        try CanonicalJSON.parse(Array(text.utf8)).canonicalString
    }

    @Test("members sort by UTF-16 code units (RFC 8785 §3.2.3 example)")
    func memberOrder() throws {
        let input = #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let output = try canonical(input)
        let keys = try #require(try CanonicalJSON.parse(Array(output.utf8)).objectValue).keys.sorted(by: CanonicalJSON.precedes)
        #expect(keys == ["\r", "1", "\u{80}", "ö", "€", "😀", "\u{FB33}"])
        // The canonical text lists them in that order.
        var positions: [String.Index] = []
        for key in keys { positions.append(try #require(output.range(of: "\"" + (key == "\r" ? "\\r" : key) + "\"")).lowerBound) }
        #expect(positions == positions.sorted())
    }

    @Test("strings use the minimal escapes of JSON.stringify")
    func escapes() throws {
        #expect(try canonical(#"["\u0041\/\u00e9\u2028", "\u000f\u001F\b\t\n\f\r\"\\", "\ud83d\ude00"]"#)
            == "[\"A/é\u{2028}\",\"\\u000f\\u001f\\b\\t\\n\\f\\r\\\"\\\\\",\"😀\"]")
        #expect(try canonical(" { \"b\" : [ 1 , -2 , 0 ] , \"a\" : { } , \"c\" : null , \"d\" : true } ") == #"{"a":{},"b":[1,-2,0],"c":null,"d":true}"#)
    }

    @Test("numbers are integers within ±(2^53 − 1); anything else is refused by name")
    func numbers() throws {
        #expect(try canonical("[9007199254740991,-9007199254740991,-0]") == "[9007199254740991,-9007199254740991,0]")
        for bad in ["[9007199254740992]", "[1.5]", "[1e3]", "[1.0]", "[12345678901234567890]"] {
            #expect(caught(JSONError.self) { _ = try CanonicalJSON.parse(Array(bad.utf8)) }?.code == .unsupportedNumber, "\(bad)")
        }
        #expect(caught(JSONError.self) { _ = try CanonicalJSON.parse(Array("[01]".utf8)) }?.code == .syntax)
    }

    @Test("values built in code: canonicalBytes(maximumDepth:) refuses what could not be parsed back")
    func checkedWriting() throws {
        let good: JSONValue = ["a": [1, ["b": .integer(JSONValue.maximumInteger)]]]
        #expect(try good.canonicalBytes(maximumDepth: 3) == good.canonicalBytes)
        for number in [Int64.min, Int64.max, JSONValue.maximumInteger + 1, -JSONValue.maximumInteger - 1] {
            #expect(caught(JSONError.self) { _ = try JSONValue.object(["n": .integer(number)]).canonicalBytes(maximumDepth: 8) }?.code == .unsupportedNumber, "\(number)")
        }
        #expect(caught(JSONError.self) { _ = try good.canonicalBytes(maximumDepth: 2) }?.code == .tooDeep)
    }

    @Test("malformed input gets a named error with its offset")
    func malformed() throws {
        let cases: [(String, JSONError.Code)] = [
            ("", .syntax), ("{", .syntax), ("{\"a\":1,}", .syntax), ("[1 2]", .syntax), ("\"abc", .syntax),
            ("{\"a\":1,\"a\":2}", .duplicateKey), ("[\"\\ud800\"]", .invalidText), ("[\"\\udc00\"]", .invalidText),
            ("[\"\u{01}\"]", .syntax), ("nul", .syntax), ("[1] x", .syntax), ("\u{FEFF}[1]", .syntax),
        ]
        for (text, code) in cases {
            #expect(caught(JSONError.self) { _ = try CanonicalJSON.parse(Array(text.utf8)) }?.code == code, "\(text.debugDescription)")
        }
        #expect(caught(JSONError.self) { _ = try CanonicalJSON.parse([0x22, 0xFF, 0x22]) }?.code == .invalidText)
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(caught(JSONError.self) { _ = try CanonicalJSON.parse(Array(deep.utf8)) }?.code == .tooDeep)
        let error = caught(JSONError.self) { _ = try CanonicalJSON.parse(Array("[1,2,x]".utf8)) }
        #expect(error?.offset == 5)
    }

    @Test("parseCanonical accepts exactly the canonical bytes and says why others are not")
    func canonicalOnly() throws {
        let good = #"{"a":[1,"x\u001f"],"b":{"c":null}}"#
        #expect(try CanonicalJSON.parseCanonical(Array(good.utf8)).canonicalString == good)
        let cases: [(String, String)] = [
            (#"{"b":1,"a":2}"#, "comes after"),
            (#"{"a": 1}"#, "whitespace"),
            (#"["\/"]"#, "unescaped"),
            (#"["\u0041"]"#, "not canonical"),
            (#"["\u001F"]"#, "not canonical"),
            (#"["\u000a"]"#, "not canonical"),
            ("[-0]", "-0"),
        ]
        for (text, words) in cases {
            let error = caught(JSONError.self) { _ = try CanonicalJSON.parseCanonical(Array(text.utf8)) }
            #expect(error?.code == .notCanonical, "\(text)")
            #expect(error?.reason.contains(words) == true, "\(text): \(error?.reason ?? "accepted")")
        }
    }

    @Test("base64 decoding accepts only the canonical spelling")
    func strictBase64() {
        let bytes: [UInt8] = Array(0..<32)
        let text = Base64.encode(bytes)
        #expect(text == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        #expect(Base64.decode(text) == bytes)
        #expect(Base64.decode("") == [])
        #expect(Base64.decode("Zg==") == Array("f".utf8))
        #expect(Base64.decode("Zm8=") == Array("fo".utf8))
        // "Zh==" decodes to "f" with lenient decoders (non-zero unused bits): refused here.
        for bad in ["Zh==", "Zg=", "Zg", "Z===", "Zm9v\n", "Zm9v====", "Zg==Zg==", "Z-8=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    /// Trail of Bits' `rfc8785` (PyPI) is an independent JCS implementation: our canonical bytes
    /// must be the bytes it produces from the same value.
    @Test("canonical bytes equal those of Python's rfc8785 package")
    func agreesWithPython() throws {
        let samples = [
            #"{"z":1,"a":{"é":"\u0000\u007f\u0080","\ud83d\ude00":[true,false,null]},"A":-9007199254740991,"":"",  "b": "line\nbreak\ttab\"q\\"}"#,
            #"[{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}]"#,
            #"{"evidence":{"digests":[{"alg":"sha-256","value":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}],"size":1048576,"case":"ODR-2026-0042","note":"合同 / contrato / Vertrag"}}"#,
        ]
        let directory = TemporaryDirectory()
        for (index, sample) in samples.enumerated() {
            let input = directory.file("in\(index).json")
            try sample.write(toFile: input, atomically: true, encoding: .utf8)
            let script = "import json, sys, rfc8785; sys.stdout.buffer.write(rfc8785.dumps(json.load(open(sys.argv[1], encoding='utf-8'))))"
            let result = try runProcess("/usr/bin/env", ["python3", "-c", script, input])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == (try CanonicalJSON.parse(Array(sample.utf8)).canonicalString), "sample \(index)")
        }
    }
}
