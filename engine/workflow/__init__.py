"""BPMN processes: parsing and checking diagrams, deploying versions, running instances, timers, the script sandbox."""
