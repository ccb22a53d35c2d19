import Logging

let logger = Logger(label: "gateway-tests")
