import Foundation
import HeraldConfig
import HeraldJSON
import Routing

extension RoutingBenchmark {
    static let routesYAML = """
        routes:
          - name: ticket-assigned
            match:
              type: "com.example.helpdesk.ticket.*"
              source: "/helpdesk/*"
              where: { "data.priority": { in: [normal, high, urgent] } }
            to:
              - user: { aadObjectId: "${data.assignee.aadObjectId}", tenantId: "${data.tenantId}" }
              - reference: "oncall-${data.team}"
            message:
              card: card.json
              summary: "Ticket ${data.id} assigned to you"
              alert: true
            notificationKey: "ticket-${data.id}"
            quietHours: { from: "20:00", to: "08:00", timeZone: "${data.assignee.timeZone}" }
            expiresAfter: 6h
          - name: other
            match: { type: "com.example.billing.*" }
            to: [ { reference: "billing" } ]
            message: { text: "${type}" }
        """

    static let cardJSON = """
        {"type":"AdaptiveCard","version":"1.5","body":[
          {"type":"TextBlock","size":"Medium","weight":"Bolder","text":"Ticket ${data.id}: ${data.title}","wrap":true},
          {"type":"TextBlock","text":"Assigned to you by ${data.actor}","isSubtle":true,"wrap":true},
          {"type":"FactSet","facts":[
            {"title":"Priority","value":"${toUpper(data.priority)}"},
            {"title":"Customer","value":"${data.customer.name}"},
            {"title":"Due","value":"${data.dueAt}","$when":"${data.dueAt != null}"}]},
          {"type":"TextBlock","text":"${data.description}","wrap":true,"maxLines":6}],
         "actions":[
          {"type":"Action.OpenUrl","title":"Open ticket","url":"${data.url}"},
          {"type":"Action.OpenUrl","title":"Customer history","url":"${data.customer.url}"}]}
        """

    static let eventJSON = """
        {"specversion":"1.0","id":"6f1c2a9e-3b7d-4c8e-9f10-2a3b4c5d6e7f","type":"com.example.helpdesk.ticket.assigned",\
        "source":"/helpdesk/eu-1","time":"2025-06-15T09:30:00Z","datacontenttype":"application/json",\
        "data":{"id":"HD-4711","title":"Printer on 3rd floor \\"jams\\" every morning","priority":"high",\
        "actor":"Dana Scully","team":"facilities","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47",\
        "assignee":{"aadObjectId":"8d3f2c1a-5b6e-4f7a-9c8d-1e2f3a4b5c6d","timeZone":"Europe/Berlin"},\
        "customer":{"name":"Contoso Ltd","url":"https://helpdesk.example.com/customers/42"},\
        "dueAt":"2025-06-16T17:00:00Z","url":"https://helpdesk.example.com/tickets/HD-4711",\
        "description":"Paper jams in tray 2 since Monday; the error code is E-23. Toner was replaced last week."}}
        """
}
