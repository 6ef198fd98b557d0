"""Analysis of finished runs and the site: tables and sentences, figures, the notebooks' computations, the TRIPOD+AI items, papermill reports, the website, downloads, privacy."""
