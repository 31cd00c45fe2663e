document.getElementById('call').src = new URLSearchParams(location.search).get('src') ?? '/index.html';
