"""The synced objects, each described once (streams, mapping, identity fields, reconcile step, hooks).

- `streams`: what is pulled, one declarative `Stream` per system object (the stages read it from here).
- `spec`: `ObjectSpec`, the description of one object, with do-nothing hooks for what only some need.
- `people`, `deals`: the two specs; `registry`: every spec, in the order a cycle runs them.

Nothing is imported here: the stages import `streams`, and the specs import the stages.
"""
