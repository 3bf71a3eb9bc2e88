// Pictures of graphs as text: Graphviz DOT (`dot -Tsvg`) and Mermaid (rendered by GitHub,
// GitLab and most Markdown viewers). Staged programs and the facade's tensor graphs are drawn
// through the same two writers.

/// A directed graph to draw: labelled nodes and edges between them, in a fixed order so that
/// the text is the same on every run.
public struct GraphDrawing: Sendable {
    /// How a node is drawn.
    public enum Shape: Sendable {
        /// An operation (a box).
        case operation
        /// A value that enters the graph: an input, a parameter, a leaf (an ellipse).
        case input
        /// A constant (a box with rounded corners, dashed).
        case constant
        /// A result (a box with a double border).
        case output
    }

    /// A node: its unique id, the text drawn in it, and how it is drawn.
    public struct Node: Sendable {
        /// The node's identifier, unique within the drawing.
        public let id: String
        /// The text drawn in the node.
        public let label: String
        /// How the node is drawn.
        public let shape: Shape
    }

    /// An edge from one node's id to another's, with an optional label.
    public struct Edge: Sendable {
        /// The id of the node the edge leaves.
        public let from: String
        /// The id of the node the edge enters.
        public let to: String
        /// The text drawn on the edge, if any.
        public let label: String?
    }

    /// The nodes, in the order they were added.
    public private(set) var nodes: [Node] = []
    /// The edges, in the order they were added.
    public private(set) var edges: [Edge] = []
    /// The graph's title, drawn above it.
    public var title: String?

    /// An empty drawing with an optional title.
    public init(title: String? = nil) { self.title = title }

    /// Adds a node (ids must be unique; they are kept as given, and quoted when written).
    public mutating func addNode(_ id: String, label: String, shape: Shape = .operation) {
        nodes.append(Node(id: id, label: label, shape: shape))
    }

    /// Adds an edge from `from` to `to`, with an optional label (an output index, a shape).
    public mutating func addEdge(from: String, to: String, label: String? = nil) {
        edges.append(Edge(from: from, to: to, label: label))
    }

    /// The graph in Graphviz's DOT language, top to bottom.
    public var dot: String {
        var lines = ["digraph {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=11];",
                     "  edge [fontname=\"Helvetica\", fontsize=9];"]
        if let title { lines.append("  label=\(dotQuoted(title)); labelloc=t;") }
        for node in nodes {
            let style: String
            switch node.shape {
            case .operation: style = "shape=box"
            case .input: style = "shape=ellipse, style=filled, fillcolor=\"#dbeafe\""
            case .constant: style = "shape=box, style=\"rounded,dashed\""
            case .output: style = "shape=box, peripheries=2, style=filled, fillcolor=\"#dcfce7\""
            }
            lines.append("  \(dotQuoted(node.id)) [label=\(dotQuoted(node.label)), \(style)];")
        }
        for edge in edges {
            let label = edge.label.map { " [label=\(dotQuoted($0))]" } ?? ""
            lines.append("  \(dotQuoted(edge.from)) -> \(dotQuoted(edge.to))\(label);")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The graph as a Mermaid flowchart, top to bottom.
    public var mermaid: String {
        var lines: [String] = []
        if let title { lines += ["---", "title: \(title)", "---"] }
        lines.append("flowchart TB")
        var names: [String: String] = [:]
        for (i, node) in nodes.enumerated() { names[node.id] = "n\(i)" }
        for node in nodes {
            let name = names[node.id]!, label = mermaidQuoted(node.label)
            switch node.shape {
            case .operation: lines.append("  \(name)[\(label)]")
            case .input: lines.append("  \(name)([\(label)])")
            case .constant: lines.append("  \(name)(\(label))")
            case .output: lines.append("  \(name)[[\(label)]]")
            }
        }
        for edge in edges {
            guard let from = names[edge.from], let to = names[edge.to] else { continue }
            if let label = edge.label {
                lines.append("  \(from) -->|\(mermaidQuoted(label))| \(to)")
            } else {
                lines.append("  \(from) --> \(to)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `text` as a DOT string literal.
private func dotQuoted(_ text: String) -> String {
    quoted(text, escaping: ["\\": "\\\\", "\"": "\\\"", "\n": "\\n"])
}

/// `text` as a Mermaid label (quoted, with quotes and line breaks written as Mermaid reads them).
private func mermaidQuoted(_ text: String) -> String {
    quoted(text, escaping: ["\"": "#quot;", "\n": "<br/>"])
}

/// `text` in double quotes, each character of `escapes` written as given.
private func quoted(_ text: String, escaping escapes: [Character: String]) -> String {
    "\"" + text.map { escapes[$0] ?? String($0) }.joined() + "\""
}
