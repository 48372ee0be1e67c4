//! Rules shared by clusters and standalones (being written).
