package neo4jcheck;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kind of a setting from the "valid values" sentence Neo4j builds from its parser and
 * constraints (SettingImpl.validValues()), by the same first words the catalogue generator reads
 * from the documentation, so the two can be compared.
 */
final class Kinds {
    record Kind(String kind, List<String> values, Kind element) {
        @Override
        public String toString() {
            if (element != null) {
                return kind + "<" + element + ">";
            }
            return values.isEmpty() ? kind : kind + values;
        }
    }

    private static final Pattern LIST = Pattern.compile(
            "^a comma-separated (list|set) where each element is (.*)$", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern ENUM = Pattern.compile("^one of \\[([^\\]]*)\\]", Pattern.CASE_INSENSITIVE);

    private Kinds() {}

    static Kind of(String validValues) {
        String text = validValues.strip();
        String low = text.toLowerCase(Locale.ROOT);
        Matcher m = LIST.matcher(text);
        if (m.matches()) {
            return new Kind("list", List.of(), of(m.group(2)));
        }
        m = ENUM.matcher(text);
        if (m.find()) {
            List<String> values = new ArrayList<>();
            for (String v : m.group(1).split(",")) {
                values.add(v.strip());
            }
            return new Kind("enum", values, null);
        }
        return new Kind(simple(low), List.of(), null);
    }

    private static String simple(String low) {
        if (low.startsWith("a boolean")) return "boolean";
        if (low.startsWith("a duration-range")) return "duration_range";
        if (low.startsWith("a duration")) return "duration";
        if (low.startsWith("a byte size")) return "bytes";
        if (low.startsWith("an integer")) return "integer";
        if (low.startsWith("a long")) return "long";
        if (low.startsWith("a double")) return "double";
        if (low.startsWith("a path")) return "path";
        if (low.startsWith("a socket address")) return "socket_address";
        if (low.startsWith("a set of file permissions")) return "file_permissions";
        if (low.startsWith("a hostname")) return "hostname";
        if (low.startsWith("a uri")) return "uri";
        if (low.startsWith("a simple key")) return "map";
        if (low.startsWith("one or more jvm arguments")) return "jvm_arguments";
        if (low.startsWith("a secure string")) return "string";
        if (low.startsWith("a string describing a timezone")) return "timezone";
        if (low.contains("valid database name pattern")) return "database_name_pattern";
        if (low.contains("valid database name")) return "database_name";
        if (low.startsWith("a simple globbing pattern")) return "glob";
        if (low.startsWith("a string")) return "string";
        return "other";
    }

    /** The catalogue's structured type as a {@link Kind}. */
    static Kind ofCatalogue(com.fasterxml.jackson.databind.JsonNode type) {
        List<String> values = new ArrayList<>();
        type.path("values").forEach(v -> values.add(v.asText()));
        Kind element = type.has("element") ? ofCatalogue(type.get("element")) : null;
        return new Kind(type.path("kind").asText(), values, element);
    }

    /** Whether a declared kind and a catalogued kind describe the same values. */
    static boolean compatible(Kind declared, Kind catalogued) {
        // Neo4j describes a port-less address either way ("a hostname that has no specified port"
        // in newer patches, "a socket address ... that has no specified port" in 5.26.0).
        if (declared.kind().equals("socket_address") && catalogued.kind().equals("hostname")) {
            return true;
        }
        if (!declared.kind().equals(catalogued.kind())) {
            return false;
        }
        if (declared.kind().equals("enum")) {
            return declared.values().stream().map(v -> v.toUpperCase(Locale.ROOT)).sorted().toList()
                    .equals(catalogued.values().stream().map(v -> v.toUpperCase(Locale.ROOT)).sorted().toList());
        }
        if (declared.element() != null && catalogued.element() != null) {
            return compatible(declared.element(), catalogued.element());
        }
        return true;
    }
}
