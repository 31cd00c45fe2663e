"""Artist styles learned from a collection: Sanakoyeu et al. 2018, style-aware content loss."""
