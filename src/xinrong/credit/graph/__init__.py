"""The relationship graph (图谱): who is tied to an entity within a few hops, and the risks there.

Nodes are market entities and natural persons. Edges are the published ties (legal
representative, shareholding, office, actual control: person or entity → entity), guarantees
(directed, guarantor → the entity whose debts it guarantees), a shared registered address between
entities and a shared phone number between persons. Guarantee circles (担保圈) are cycles of the
directed guarantee graph, found with networkx. Related-party risk flags come from registration
status, the data hub's negative facts still within retention, and membership of a guarantee
circle, computed for all nodes in a few queries.

Everything here only reads, and reads what it is told: which layers a reader may see (guarantees,
phones, which fact categories) is decided by ``credit.selectors.archive.relationship_graph``.

Modules: ``base`` (limits and the graph's data classes), ``circles`` (guarantee circles),
``flags`` (related-party risk flags), ``ego`` (the graph around one entity).
"""
