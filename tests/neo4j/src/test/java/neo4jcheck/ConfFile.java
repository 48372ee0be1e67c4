package neo4jcheck;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** The settings of a neo4j.conf in file order, read with the rules Neo4j reads it with (java.util.Properties, ISO-8859-1). */
final class ConfFile {
    record Line(String key, String value) {}

    final Path path;
    final List<Line> lines;

    private ConfFile(Path path, List<Line> lines) {
        this.path = path;
        this.lines = List.copyOf(lines);
    }

    static ConfFile read(Path path) throws IOException {
        List<Line> lines = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.ISO_8859_1)) {
            new Properties() {
                @Override
                public synchronized Object put(Object key, Object value) {
                    lines.add(new Line(key.toString(), value.toString()));
                    return null;
                }
            }.load(r);
        }
        return new ConfFile(path, lines);
    }

    List<String> keys() {
        return lines.stream().map(Line::key).distinct().toList();
    }

    String value(String key) {
        String v = null;
        for (Line l : lines) {
            if (l.key().equals(key)) {
                v = l.value();
            }
        }
        return v;
    }

    String name() {
        String f = path.getFileName().toString();
        return f.endsWith(".conf") ? f.substring(0, f.length() - 5) : f;
    }
}
