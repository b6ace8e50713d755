"""Operating newsdrift: the embedded store nodes, Dashboards saved objects, the demo and the sample corpus."""
